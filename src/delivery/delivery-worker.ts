// Drives one connector's deliveries: waits while the connector is held, claims a batch, hands
// it to the adapter under a renewed lease, and records the verdicts in the ledger.
import type pg from "pg";
import { type Adapter, AdapterError, type Batch, type ItemOutcome } from "../adapters/adapter.js";
import type { ConnectorConfig } from "../config/types.js";
import { faultPoint } from "../fault-points.js";
import { BatchClaims, type ClaimedBatch } from "../ledger/batch-claims.js";
import { BatchOutcomes, type ItemVerdict, type OwnedBatch } from "../ledger/batch-outcomes.js";
import { type ClaimReadiness, claimReadiness } from "../ledger/claim-readiness.js";
import { holdForAttention, readConnectorStates } from "../ledger/connector-state.js";
import { withPooledClient } from "../ledger/queryable.js";
import type { Logger } from "../ops/logger.js";
import { verdictsForBatchFailure, verdictsForOutcomes } from "./item-verdicts.js";
import { ScheduleGate } from "./schedule.js";

/** A drop file body, and the bytes it begins with that belong only at the start of a file. */
export interface RenderedBody {
  readonly body: Buffer;
  readonly fileHeader?: Buffer;
}

/** Builds a drop file body from the batch's records (CSV header, fixed-width header/trailer). */
export type BatchBodyRenderer = (
  batch: { mapping: string; targetIndex: number; createdAt: Date; sequence: number },
  records: readonly Buffer[],
) => RenderedBody;

export interface DeliveryEvents {
  onItem?(connector: string, verdict: ItemVerdict, commitTime: Date, mapping: string): void;
  onBatch?(connector: string, batch: ClaimedBatch, durationMs: number): void;
  /** A clock schedule's drop is done (nothing more was due): the connector waits for `nextDrop`. */
  onDropDone?(connector: string, nextDrop: Date | undefined): void;
}

export interface DeliveryWorkerOptions {
  readonly connector: ConnectorConfig;
  readonly adapter: Adapter;
  readonly pool: pg.Pool;
  readonly schema: string;
  /** Identifies this process in batch leases. */
  readonly owner: string;
  readonly leaseMs: number;
  readonly pollMs: number;
  readonly renderBody: BatchBodyRenderer;
  readonly logger: Logger;
  readonly events?: DeliveryEvents;
  /** The wall clock schedules are read on (a test moves it to 08:59 and then to 09:00). */
  readonly scheduleClock?: () => Date;
}

export type HoldReason = "paused" | "offline" | "attention" | "outside schedule";

export class DeliveryWorker {
  private readonly claims: BatchClaims;
  private readonly outcomes: BatchOutcomes;
  private readonly schedule: ScheduleGate;
  private stopped = false;
  private wakeUp: (() => void) | undefined;
  /** A wake that came while the worker was busy (claiming, sending): its next wait for due work is skipped. */
  private wokenWhileBusy = false;
  private running: Promise<void> | undefined;

  constructor(private readonly options: DeliveryWorkerOptions) {
    this.claims = new BatchClaims(options.schema);
    this.outcomes = new BatchOutcomes(options.schema);
    this.schedule = new ScheduleGate(options.connector.schedule);
  }

  start(): void {
    this.running ??= this.loop();
  }

  private dropDone(nextDrop: Date | undefined): void {
    if (nextDrop === undefined) return;
    const { connector, logger, events } = this.options;
    logger.info({ connector: connector.name, nextDrop: nextDrop.toISOString() }, "scheduled drop done");
    events?.onDropDone?.(connector.name, nextDrop);
  }

  private now(): Date {
    return this.options.scheduleClock?.() ?? new Date();
  }

  /** Finishes the batch in hand, then stops. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.running;
  }

  /** New deliveries were queued: look now instead of at the next poll. */
  wake(): void {
    if (this.wakeUp) this.wakeUp();
    else this.wokenWhileBusy = true;
  }

  private async loop(): Promise<void> {
    const { logger } = this.options;
    while (!this.stopped) {
      try {
        const hold = await this.holdReason();
        if (hold) {
          await this.idle(this.options.pollMs * 2);
          continue;
        }
        this.wokenWhileBusy = false;
        const readiness = await this.readiness();
        if (!readiness.due) {
          this.dropDone(this.schedule.drained(this.now()));
          // Wake when the earliest known due time comes (a partial batch's maxWait, a retry), not
          // a poll interval later; new deliveries wake the worker sooner.
          await this.idleUnlessWoken(waitFor(readiness.dueInMs, this.options.pollMs));
          continue;
        }
        const batch = await this.claim();
        if (!batch) {
          this.dropDone(this.schedule.drained(this.now()));
          await this.idle(this.options.pollMs);
          continue;
        }
        this.schedule.batchClaimed(this.now());
        await this.deliver(batch);
      } catch (error) {
        // The ledger is unreachable or a query failed: nothing is lost (leases expire, batches
        // are taken over), so log, wait and go on.
        logger.error({ err: error, connector: this.options.connector.name }, "delivery loop error");
        await this.idle(Math.max(1000, this.options.pollMs * 4));
      }
    }
  }

  private async holdReason(): Promise<HoldReason | null> {
    const { connector, pool, schema } = this.options;
    const state = (await readConnectorStates(pool, schema)).get(connector.name);
    if (state?.paused) return "paused";
    if (state?.attention) return "attention";
    if (state && !state.online) return "offline";
    if (!this.schedule.isOpen(this.now())) return "outside schedule";
    return null;
  }

  private readiness(): Promise<ClaimReadiness> {
    const { connector, pool, schema } = this.options;
    return claimReadiness(pool, schema, {
      connector: connector.name,
      maxRecords: connector.batch.maxRecords,
      maxWaitMs: connector.batch.maxWaitMs,
    });
  }

  private async claim(): Promise<ClaimedBatch | null> {
    const { connector, adapter, pool } = this.options;
    return withPooledClient(pool, (client) =>
      this.claims.claim(client, {
        connector: connector.name,
        ordering: connector.ordering,
        maxRecords: connector.batch.maxRecords,
        maxWaitMs: connector.batch.maxWaitMs,
        owner: this.options.owner,
        leaseMs: this.options.leaseMs,
        maxAttempts: connector.retry.maxAttempts,
        nameFor: adapter.batchName ? (b) => adapter.batchName?.(b) ?? "" : undefined,
        serial: adapter.oneBatchAtATime,
      }),
    );
  }

  private async deliver(claimed: ClaimedBatch): Promise<void> {
    const { connector, adapter, pool, logger } = this.options;
    const started = Date.now();
    const abort = new AbortController();
    let leaseLost = false;
    const renewal = setInterval(
      () => {
        this.claims
          .renewLease(pool, claimed.id, this.options.owner, this.options.leaseMs)
          .then((renewed) => {
            if (renewed || leaseLost) return;
            // Another process took the batch over (this one stalled past its lease): stop sending,
            // and leave the outcome to the new owner.
            leaseLost = true;
            logger.warn({ connector: connector.name, batch: claimed.id }, "batch lease lost; the send is abandoned");
            abort.abort(
              new AdapterError("the batch lease was lost to another process", {
                failure: "retriable",
                reason: "lease_lost",
              }),
            );
          })
          .catch((error: unknown) => {
            logger.warn({ err: error, batch: claimed.id }, "could not renew the batch lease");
          });
      },
      Math.max(250, Math.floor(this.options.leaseMs / 3)),
    );
    let outcomes: readonly ItemOutcome[] | undefined;
    let failure: AdapterError | undefined;
    faultPoint("claimed-before-send", connector.name);
    try {
      // Rendering belongs to the attempt: a body that cannot be built is a verdict on this
      // batch (dead letter with the reason), never an error that leaves it 'sending'.
      const batch = this.batchFor(claimed);
      outcomes = await adapter.send(batch, {
        signal: abort.signal,
        saveState: (state) => this.outcomes.saveAdapterState(pool, claimed.id, state),
      });
    } catch (error) {
      failure = asAdapterFailure(error);
    } finally {
      clearInterval(renewal);
    }
    const durationMs = Date.now() - started;
    if (!failure) faultPoint("accepted-before-ledger", connector.name);
    const recorded = await withPooledClient(pool, async (client) => {
      if (failure) return this.recordBatchFailure(client, claimed, failure, durationMs);
      return this.recordOutcomes(client, claimed, outcomes ?? [], durationMs);
    });
    if (!recorded) {
      logger.warn(
        { connector: connector.name, batch: claimed.id, attempt: claimed.attempt },
        "batch taken over by another process before its outcome was recorded; that process records it",
      );
      return;
    }
    this.options.events?.onBatch?.(connector.name, claimed, durationMs);
  }

  /** The adapter's view of a claimed batch, with the drop body rendered for drop adapters. */
  private batchFor(claimed: ClaimedBatch): Batch {
    const { connector, adapter } = this.options;
    const records = claimed.items.map((i) => i.payload);
    let rendered: RenderedBody = { body: Buffer.alloc(0) };
    if (adapter.takesBatchBody) {
      try {
        rendered = this.options.renderBody(
          {
            mapping: claimed.mapping,
            targetIndex: claimed.targetIndex,
            createdAt: claimed.createdAt,
            sequence: claimed.sequence,
          },
          records,
        );
      } catch (error) {
        throw new AdapterError(`the batch body could not be rendered: ${(error as Error)?.message ?? String(error)}`, {
          failure: "permanent",
          reason: "render_failed",
          cause: error,
        });
      }
    }
    return {
      connector: connector.name,
      id: claimed.id,
      sequence: claimed.sequence,
      createdAt: claimed.createdAt,
      body: rendered.body,
      ...(rendered.fileHeader ? { fileHeader: rendered.fileHeader } : {}),
      items: claimed.items.map((i) => ({
        id: i.id,
        token: i.token,
        correlationId: i.correlationId,
        key: i.orderingKey,
        payload: i.payload,
        ...(i.traceId ? { traceId: i.traceId } : {}),
      })),
      ...(claimed.name ? { name: claimed.name } : {}),
      ...(claimed.adapterState ? { state: claimed.adapterState } : {}),
    };
  }

  private async recordOutcomes(
    client: pg.PoolClient,
    claimed: ClaimedBatch,
    outcomes: readonly ItemOutcome[],
    durationMs: number,
  ): Promise<boolean> {
    const { connector } = this.options;
    const { verdicts, attention } = verdictsForOutcomes(claimed.items, outcomes, connector.retry);
    const recorded = await this.outcomes.recordItems(client, this.owned(claimed), verdicts);
    if (!recorded) return false;
    if (attention) await holdForAttention(client, this.options.schema, connector.name, attention.message);
    this.report(claimed, verdicts, durationMs);
    return true;
  }

  private owned(claimed: ClaimedBatch): OwnedBatch {
    return {
      id: claimed.id,
      connector: this.options.connector.name,
      attempt: claimed.attempt,
      owner: this.options.owner,
      run: claimed.run,
    };
  }

  private async recordBatchFailure(
    client: pg.PoolClient,
    claimed: ClaimedBatch,
    failure: AdapterError,
    durationMs: number,
  ): Promise<boolean> {
    const { connector, logger, schema } = this.options;
    const members = claimed.items.map((i) => ({ id: i.id, token: i.token }));
    logger.warn(
      {
        connector: connector.name,
        batch: claimed.id,
        name: claimed.name,
        attempt: claimed.attempt,
        failure: failure.failure,
        reason: failure.reason,
        tokens: members.map((m) => m.token),
        durationMs,
        err: failure,
      },
      "delivery attempt failed",
    );
    if (failure.failure === "attention") {
      // The adapter found a state it cannot resolve alone: hold the connector, keep the batch
      // (same name, same members) and do not spend the attempt.
      if (!(await this.outcomes.releaseBatch(client, this.owned(claimed), failure.message))) return false;
      await holdForAttention(client, schema, connector.name, failure.message);
      return true;
    }
    const { decision, delayMs, verdicts } = verdictsForBatchFailure(
      claimed.items,
      failure,
      claimed.attempt,
      connector.retry,
    );
    const recorded = await this.outcomes.recordBatchFailure(
      client,
      { ...this.owned(claimed), items: members },
      decision,
      failure.message,
      failure.reason,
      delayMs,
    );
    if (!recorded) return false;
    this.report(claimed, verdicts, durationMs);
    return true;
  }

  /** One log line per delivery attempt (with token and correlation id), and the metric events. */
  private report(claimed: ClaimedBatch, verdicts: readonly ItemVerdict[], durationMs: number): void {
    const { connector, logger } = this.options;
    const byItem = new Map(claimed.items.map((i) => [i.id, i]));
    for (const verdict of verdicts) {
      const item = byItem.get(verdict.id);
      logger.info(
        {
          connector: connector.name,
          deliveryId: verdict.id,
          token: verdict.token,
          correlationId: item?.correlationId,
          ...(item?.appCorrelationId ? { applicationCorrelationId: item.appCorrelationId } : {}),
          ...(item?.traceId ? { traceId: item.traceId } : {}),
          batch: claimed.id,
          attempt: item?.attempt ?? claimed.attempt,
          outcome: verdict.verdict,
          durationMs,
          ...(verdict.verdict !== "sent" ? { error: verdict.error, reason: verdict.reason } : {}),
        },
        "delivery attempt",
      );
      if (item) this.options.events?.onItem?.(connector.name, verdict, item.commitTime, claimed.mapping);
    }
  }

  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
      timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }

  /**
   * Waits for due work, unless deliveries were stored since readiness was read: what they
   * changed (a batch now full) is looked at at once rather than at the next poll.
   */
  private idleUnlessWoken(ms: number): Promise<void> {
    if (this.wokenWhileBusy) {
      this.wokenWhileBusy = false;
      return Promise.resolve();
    }
    return this.idle(ms);
  }
}

/**
 * How long to sleep before looking again: until the due time (a millisecond past it, so the
 * claim's own clock agrees it has come), never longer than the poll interval, which bounds how
 * late a change made by another process (a replay, a second worker) is seen.
 */
function waitFor(dueInMs: number | null, pollMs: number): number {
  if (dueInMs === null) return pollMs;
  return Math.max(1, Math.min(pollMs, Math.ceil(dueInMs) + 1));
}

function asAdapterFailure(error: unknown): AdapterError {
  if (error instanceof AdapterError) return error;
  return new AdapterError(`unexpected adapter failure: ${(error as Error)?.message ?? String(error)}`, {
    failure: "retriable",
    reason: "unexpected",
    cause: error,
  });
}
