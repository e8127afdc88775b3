// The consumer of one replication session: collects feed rows, group-commits them to the ledger
// while the stream keeps flowing, and confirms a transaction's end LSN only once it is durable.
import type pg from "pg";
import type { Lsn, SourceMessage } from "../change/change.js";
import { faultPoint } from "../fault-points.js";
import type { FeedBatch, FeedWriter, SameTransactionWork } from "../ledger/feed-writer.js";
import type { Logger } from "../ops/logger.js";
import type { StreamConsumer } from "../source/replication-stream.js";
import {
  type CapturedChange,
  EVENT_MESSAGE_PREFIX,
  eventToCaptured,
  type OpenTransaction,
  rowChangeToCaptured,
  truncateToCaptured,
} from "./feed-rows.js";

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
  /** Called after a batch is durable. */
  onDurable?(batch: FeedBatch, inserted: number, lastCommitTime: Date | undefined): void;
  /**
   * A batch could not be stored: the session must end now. Waiting for the next message is not
   * enough: a server shutting down sends none, and waits for a confirmation this session must
   * never give.
   */
  onFailure?(error: Error): void;
}

export class CapturePipeline implements StreamConsumer {
  private txn: OpenTransaction | null = null;
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
  ) {}

  onMessage(message: SourceMessage): void | Promise<void> {
    if (this.failure) throw this.failure;
    switch (message.kind) {
      case "begin":
        this.txn = { begin: message, nextOrdinal: 0 };
        return;
      case "row":
        this.pending.push(rowChangeToCaptured(this.openTransaction(message.kind), message));
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
    return this.txn === null && this.pending.length === 0 && this.pendingCheckpoint === undefined && !this.flushing;
  }

  /** Waits for everything received so far to be durable (graceful stop). */
  async drain(): Promise<void> {
    while (this.flushing || (this.pendingCheckpoint !== undefined && !this.failure)) {
      if (!this.flushing) this.startFlush();
      await this.flushing;
    }
    if (this.failure) throw this.failure;
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
      if (batch.rows.length > 0) {
        inserted = await this.writer.write(this.ledger, batch, this.hooks.sameTransaction?.(changes));
      }
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

  private waitForDrain(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.drained.push(() => (this.failure ? reject(this.failure) : resolve()));
    });
  }
}
