// The consumer of one replication session: collects feed rows, group-commits them to the ledger
// while the stream keeps flowing, and confirms a transaction's end LSN only once it is durable.
// A transaction streamed while still in progress (pgoutput protocol 2) waits in the ledger's
// streamed changes, segment by segment, and moves into the feed at its commit.
import type pg from "pg";
import type {
  Lsn,
  SourceMessage,
  StreamAbortMessage,
  StreamCommitMessage,
  StreamStartMessage,
  TableRef,
} from "../change/change.js";
import { decodeChange, encodeChange, type TransactionChange } from "../change/message-codec.js";
import { faultPoint } from "../fault-points.js";
import { appendAudit } from "../ledger/audit.js";
import type { FeedBatch, FeedWriter, SameTransactionWork } from "../ledger/feed-writer.js";
import type { StreamedChange, StreamedChanges } from "../ledger/streamed-changes.js";
import type { Logger } from "../ops/logger.js";
import type { StreamConsumer } from "../source/replication-stream.js";
import { classifyPgError, isRefusedValue } from "../sql/pg-error.js";
import {
  type CapturedChange,
  EVENT_MESSAGE_PREFIX,
  eventToCaptured,
  type OpenTransaction,
  rowChangeToCaptured,
  truncateToCaptured,
} from "./feed-rows.js";
import { placeholderFor, refusalOf } from "./refused-change.js";

export interface CaptureLimits {
  /** Flush once this many rows are waiting, even inside a transaction. */
  readonly batchRows: number;
  /** Hold the stream (back-pressure) once this many rows are waiting behind a flush in progress. */
  readonly maxBufferedRows: number;
}

export const DEFAULT_CAPTURE_LIMITS: CaptureLimits = { batchRows: 5000, maxBufferedRows: 20_000 };

/** Hooks for what else must be committed with the feed (deliveries) and for progress. */
export interface CaptureHooks {
  /** Ledger work for these rows in the same transaction. */
  sameTransaction?(changes: readonly CapturedChange[]): SameTransactionWork | undefined;
  /**
   * Whether sameTransaction may read the rows of this table (a mapping's source). Without it,
   * rows are kept whenever there is a sameTransaction.
   */
  readsRowsOf?(table: TableRef): boolean;
  /** Called after a batch is durable. */
  onDurable?(batch: FeedBatch, inserted: number, lastCommitTime: Date | undefined): void;
  /**
   * A batch could not be stored: the session must end now. Waiting for the next message is not
   * enough: a server shutting down sends none, and waits for a confirmation this session must
   * never give.
   */
  onFailure?(error: Error): void;
}

/** The transaction whose segment is being received, and what of it waits to be appended. */
interface OpenSegment {
  readonly xid: number;
  readonly buffered: StreamedChange[];
}

export class CapturePipeline implements StreamConsumer {
  private txn: OpenTransaction | null = null;
  private segment: OpenSegment | null = null;
  /** Streamed transactions neither committed nor aborted yet, with the position of their next change. */
  private readonly openStreams = new Map<number, number>();
  private pending: CapturedChange[] = [];
  private pendingCheckpoint: Lsn | undefined;
  private pendingCommitTime: Date | undefined;
  private flushing: Promise<void> | null = null;
  private failure: Error | null = null;
  private drained: Array<() => void> = [];

  constructor(
    private readonly ledger: pg.ClientBase,
    private readonly writer: FeedWriter,
    private readonly confirm: (lsn: Lsn) => void,
    private readonly logger: Logger,
    private readonly limits: CaptureLimits = DEFAULT_CAPTURE_LIMITS,
    private readonly hooks: CaptureHooks = {},
    /** Where streamed transactions wait for their commit; required once the source streams them. */
    private readonly streamed?: StreamedChanges,
  ) {}

  onMessage(message: SourceMessage): void | Promise<void> {
    if (this.failure) throw this.failure;
    if (this.segment !== null && message.kind !== "stream-stop") return this.stage(this.segment, message);
    switch (message.kind) {
      case "stream-start":
        return this.startSegment(message);
      case "stream-stop":
        return this.endSegment();
      case "stream-commit":
        return this.streamCommitted(message);
      case "stream-abort":
        return this.streamAborted(message);
      case "begin":
        this.txn = { begin: message, nextOrdinal: 0 };
        return;
      case "row":
        this.pending.push(
          rowChangeToCaptured(this.openTransaction(message.kind), message, this.keepsRow(message.table)),
        );
        break;
      case "truncate":
        this.pending.push(...truncateToCaptured(this.openTransaction(message.kind), message));
        break;
      case "message":
        // Non-transactional messages (ESS's own heartbeats) carry no change; events are transactional.
        if (message.transactional && message.prefix === EVENT_MESSAGE_PREFIX) {
          this.pending.push(eventToCaptured(this.openTransaction(message.kind), message));
        }
        break;
      case "commit":
        this.txn = null;
        this.pendingCheckpoint = message.endLsn;
        this.pendingCommitTime = message.commitTime;
        break;
    }
    if (!this.flushing && (message.kind === "commit" || this.pending.length >= this.limits.batchRows)) {
      this.startFlush();
    }
    if (this.pending.length >= this.limits.maxBufferedRows) return this.waitForDrain();
  }

  isIdle(): boolean {
    // A failed flush has dropped its rows from memory without storing them: from then on this
    // session must never let the slot move (a keepalive's WAL end would skip those rows).
    if (this.failure) return false;
    return (
      this.txn === null &&
      this.segment === null &&
      this.openStreams.size === 0 &&
      this.pending.length === 0 &&
      this.pendingCheckpoint === undefined &&
      !this.flushing
    );
  }

  /** Waits for everything received so far to be durable (graceful stop). */
  async drain(): Promise<void> {
    while (this.flushing || (this.pendingCheckpoint !== undefined && !this.failure)) {
      if (!this.flushing) this.startFlush();
      await this.flushing;
    }
    if (this.failure) throw this.failure;
  }

  private streamedChanges(): StreamedChanges {
    if (!this.streamed) throw new Error("replication protocol: a streamed transaction, but no place to keep it");
    return this.streamed;
  }

  /**
   * Runs ledger work for a streamed transaction once everything received before it is stored,
   * holding the stream meanwhile (segments are few: one per logical_decoding_work_mem of changes).
   */
  private async inOrder(work: () => Promise<void>): Promise<void> {
    await this.drain();
    try {
      await work();
    } catch (error) {
      this.failure = error as Error;
      this.logger.error({ err: error }, "could not store a streamed transaction in the ledger");
      this.hooks.onFailure?.(this.failure);
      throw error;
    }
  }

  private startSegment(message: StreamStartMessage): Promise<void> | undefined {
    if (this.txn) throw new Error("replication protocol: a stream segment began inside a transaction");
    const streamed = this.streamedChanges();
    this.segment = { xid: message.xid, buffered: [] };
    if (this.openStreams.has(message.xid) && !message.firstSegment) return;
    // Sent again from its start (a new session, or a transaction the server began again): what
    // is kept of it is stale. A session begins with an empty room, so usually nothing is.
    this.openStreams.set(message.xid, 0);
    if (!message.firstSegment) {
      throw new Error(`replication protocol: transaction ${message.xid} continued without its first segment`);
    }
    return this.inOrder(() => streamed.discard(this.ledger, message.xid));
  }

  private stage(segment: OpenSegment, message: SourceMessage): Promise<void> | undefined {
    if (message.kind !== "row" && message.kind !== "truncate" && message.kind !== "message") {
      throw new Error(`replication protocol: a ${message.kind} message inside a stream segment`);
    }
    // Non-transactional messages (ESS's own heartbeats) carry no change; events are transactional.
    if (message.kind === "message" && !(message.transactional && message.prefix === EVENT_MESSAGE_PREFIX)) return;
    const seq = this.openStreams.get(segment.xid) ?? 0;
    this.openStreams.set(segment.xid, seq + 1);
    segment.buffered.push({ seq, changeXid: message.streamXid ?? segment.xid, text: encodeChange(message) });
    if (segment.buffered.length >= this.limits.batchRows) return this.appendSegment(segment);
  }

  private appendSegment(segment: OpenSegment): Promise<void> {
    const changes = segment.buffered.splice(0);
    return this.inOrder(() => this.streamedChanges().append(this.ledger, segment.xid, changes));
  }

  private async endSegment(): Promise<void> {
    const segment = this.segment;
    if (!segment) throw new Error("replication protocol: a stream segment ended that never began");
    // Everything of a segment is stored before the next message: an abort or commit then needs
    // nothing from memory.
    await this.appendSegment(segment);
    this.segment = null;
  }

  private streamAborted(message: StreamAbortMessage): Promise<void> {
    const streamed = this.streamedChanges();
    if (message.subXid === message.xid) {
      this.openStreams.delete(message.xid);
      return this.inOrder(() => streamed.discard(this.ledger, message.xid));
    }
    return this.inOrder(() => streamed.discardSubtransaction(this.ledger, message.xid, message.subXid));
  }

  /**
   * The transaction committed: its changes are numbered and planned as those of any transaction,
   * and stored a chunk at a time, each chunk in a ledger transaction of its own, as a transaction
   * received whole is stored in parts of batchRows. Its first deliveries go while the rest is
   * still moving, and one chunk at a time is in memory. The spill is discarded with the checkpoint
   * past the transaction's end, last: if the process dies in between, the server sends the
   * transaction again from its start, and the unique keys drop what was stored (as for a
   * transaction received whole). A chunk the ledger refuses a value of is stored in parts, the way
   * `store` stores a refused batch.
   */
  private streamCommitted(message: StreamCommitMessage): Promise<void> {
    const streamed = this.streamedChanges();
    return this.inOrder(async () => {
      for await (const changes of this.committedChunks(streamed, message)) {
        const stored = await this.store({ rows: changes.map((c) => c.feed) }, changes);
        this.hooks.onDurable?.({ rows: [] }, stored, undefined);
      }
      await this.writer.saveCheckpointWith(this.ledger, message.endLsn, (client) =>
        streamed.discard(client, message.xid),
      );
      this.openStreams.delete(message.xid);
      faultPoint("stored-before-confirm");
      this.confirm(message.endLsn);
      this.hooks.onDurable?.({ rows: [], checkpoint: message.endLsn }, 0, message.commitTime);
    });
  }

  /** A committed streamed transaction's changes, numbered from its start, a chunk at a time. */
  private async *committedChunks(
    streamed: StreamedChanges,
    message: StreamCommitMessage,
  ): AsyncGenerator<CapturedChange[]> {
    const txn: OpenTransaction = {
      begin: { kind: "begin", xid: message.xid, commitLsn: message.commitLsn, commitTime: message.commitTime },
      nextOrdinal: 0,
    };
    for await (const texts of streamed.read(this.ledger, message.xid, this.limits.batchRows)) {
      const changes: CapturedChange[] = [];
      for (const text of texts) this.capture(txn, decodeChange(text), changes);
      yield changes;
    }
  }

  /** A change of a transaction as the feed rows it becomes (a truncate names several tables). */
  private capture(txn: OpenTransaction, change: TransactionChange, into: CapturedChange[]): void {
    if (change.kind === "row") into.push(rowChangeToCaptured(txn, change, this.keepsRow(change.table)));
    else if (change.kind === "truncate") into.push(...truncateToCaptured(txn, change));
    else into.push(eventToCaptured(txn, change));
  }

  private keepsRow(table: TableRef): boolean {
    const { readsRowsOf, sameTransaction } = this.hooks;
    return readsRowsOf ? readsRowsOf(table) : sameTransaction !== undefined;
  }

  private openTransaction(kind: string): OpenTransaction {
    if (!this.txn) throw new Error(`replication protocol: a ${kind} message arrived outside a transaction`);
    return this.txn;
  }

  private startFlush(): void {
    const changes = this.pending;
    const batch: FeedBatch = { rows: changes.map((c) => c.feed), checkpoint: this.pendingCheckpoint };
    const commitTime = this.pendingCommitTime;
    this.pending = [];
    this.pendingCheckpoint = undefined;
    this.pendingCommitTime = undefined;
    this.flushing = this.flush(batch, changes, commitTime);
  }

  private async flush(
    batch: FeedBatch,
    changes: readonly CapturedChange[],
    commitTime: Date | undefined,
  ): Promise<void> {
    // Yield first: startFlush stores this promise in `flushing`, and a flush with no rows to write
    // would otherwise finish (clearing `flushing`) before that assignment, leaving a settled
    // promise there for good, so that drain() spins on it and the pipeline never looks idle.
    await Promise.resolve();
    try {
      let inserted = 0;
      if (batch.rows.length > 0) inserted = await this.store(batch, changes);
      faultPoint("stored-before-confirm");
      // A batch of only commits (all rows filtered) has nothing to store: confirming is enough.
      if (batch.checkpoint !== undefined) this.confirm(batch.checkpoint);
      this.hooks.onDurable?.(batch, inserted, commitTime);
    } catch (error) {
      this.failure = error as Error;
      this.logger.error({ err: error }, "could not store captured changes in the ledger");
      this.hooks.onFailure?.(this.failure);
    } finally {
      this.flushing = null;
    }
    if (!this.failure && (this.pendingCheckpoint !== undefined || this.pending.length >= this.limits.batchRows)) {
      this.startFlush();
    }
    // Either the buffer was just handed to a new flush or it is below the batch size: the
    // stream may go on.
    for (const resolve of this.drained.splice(0)) resolve();
  }

  /**
   * Stores a batch and its checkpoint in one transaction. When the ledger refuses a value in it,
   * the batch is stored in parts instead (halves of halves, in order, so a few refused changes cost
   * a few dozen transactions), each refused change alone as a placeholder with dead letters, and
   * the checkpoint last: the change is never read again, and nothing around it is lost. Any other
   * failure (the ledger unreachable, out of space) stops the session as before.
   */
  private async store(batch: FeedBatch, changes: readonly CapturedChange[]): Promise<number> {
    try {
      return await this.writer.write(this.ledger, batch, this.hooks.sameTransaction?.(changes));
    } catch (error) {
      if (!isRefusedValue(error)) throw error;
    }
    const inserted = await this.storeHalves(changes);
    if (batch.checkpoint !== undefined) {
      await this.writer.write(this.ledger, { rows: [], checkpoint: batch.checkpoint });
    }
    return inserted;
  }

  /** Stores changes (without a checkpoint) and returns how many were new; a refused one is set aside. */
  private async storePart(changes: readonly CapturedChange[]): Promise<number> {
    try {
      return await this.writer.write(
        this.ledger,
        { rows: changes.map((c) => c.feed) },
        this.hooks.sameTransaction?.(changes),
      );
    } catch (error) {
      if (!isRefusedValue(error)) throw error;
      const only = changes.length === 1 ? changes[0] : undefined;
      return only ? this.storeRefused(only, error) : this.storeHalves(changes);
    }
  }

  private async storeHalves(changes: readonly CapturedChange[]): Promise<number> {
    const half = Math.ceil(changes.length / 2);
    const first = await this.storePart(changes.slice(0, half));
    return first + (changes.length > half ? await this.storePart(changes.slice(half)) : 0);
  }

  /**
   * The change the ledger refused: a placeholder takes its place in the feed and its deliveries are
   * dead letters naming the reason. If even that is refused (a constraint on every row of its
   * table), the audit trail alone records it. The log names the change, never its values.
   */
  private async storeRefused(change: CapturedChange, error: unknown): Promise<number> {
    const refusal = refusalOf(change.feed, error);
    this.logger.error(
      { change: refusal.change, table: refusal.table, topic: refusal.topic, code: refusal.code, cause: refusal.cause },
      "the ledger refused a captured change: it is kept as a dead letter and capture goes on",
    );
    const placeholder = placeholderFor(change, refusal);
    try {
      return await this.writer.write(
        this.ledger,
        { rows: [placeholder.feed] },
        this.hooks.sameTransaction?.([placeholder]),
      );
    } catch (again) {
      if (!isRefusedValue(again)) throw again;
      this.logger.error(
        { change: refusal.change, table: refusal.table, code: classifyPgError(again).code },
        "the ledger refused even the placeholder of a change: only the audit trail records it",
      );
    }
    await appendAudit(this.ledger, this.writer.schema, [
      {
        event: "dead",
        detail: { change: refusal.change, table: refusal.table, topic: refusal.topic, stored: false },
        error: `the ledger refused change ${refusal.change} and its placeholder: ${refusal.cause}`,
      },
    ]);
    return 0;
  }

  private waitForDrain(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.drained.push(() => (this.failure ? reject(this.failure) : resolve()));
    });
  }
}
