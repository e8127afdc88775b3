// Runs a worker and a heartbeat per connector, and the ledger retention task.
import type pg from "pg";
import type { Adapter } from "../adapters/adapter.js";
import type { ConnectorConfig } from "../config/types.js";
import { clearAttention, ensureConnectorRows, ledgerNow } from "../ledger/connector-state.js";
import { pruneLedger, type RetentionPolicy } from "../ledger/retention.js";
import type { Logger } from "../ops/logger.js";
import { ConnectorHeartbeat, type HeartbeatEvents } from "./connector-heartbeat.js";
import { type BatchBodyRenderer, type DeliveryEvents, DeliveryWorker } from "./delivery-worker.js";
import { DropRotationTask } from "./drop-rotation-task.js";
import { DryRunPreview } from "./dry-run-preview.js";

export interface DeliveryServiceOptions {
  readonly connectors: readonly ConnectorConfig[];
  readonly adapters: ReadonlyMap<string, Adapter>;
  readonly pool: pg.Pool;
  readonly schema: string;
  readonly owner: string;
  readonly leaseMs?: number;
  readonly pollMs?: number;
  readonly renderBody: BatchBodyRenderer;
  readonly retention?: RetentionPolicy & { readonly everyMs?: number };
  readonly logger: Logger;
  readonly events?: DeliveryEvents & HeartbeatEvents;
  /** The wall clock schedules are read on; the system clock when absent. */
  readonly scheduleClock?: () => Date;
}

export class DeliveryService {
  private readonly workers = new Map<string, DeliveryWorker | DryRunPreview>();
  private readonly heartbeats: ConnectorHeartbeat[] = [];
  private readonly rotations: DropRotationTask[] = [];
  private retentionTimer: NodeJS.Timeout | undefined;
  private pruning: Promise<void> | undefined;
  /** When start() began, on the ledger's clock. */
  private startedAt: Date | undefined;

  constructor(private readonly options: DeliveryServiceOptions) {}

  /**
   * Lifts the attention holds, so each held connector tries again and sets attention anew if the
   * problem remains. Only the capture leader does this, when it becomes leader: a standby or a
   * delivery-only process starting must change nothing the running leader owns.
   */
  async releaseAttentionHolds(): Promise<void> {
    const { options } = this;
    const names = options.connectors.map((c) => c.name);
    // A hold this process's own heartbeats or attempts found since it started is that re-check's
    // answer already: lifting it would only set it again, with a second audit row for one finding.
    const released = await clearAttention(options.pool, options.schema, names, this.startedAt);
    if (released.length > 0)
      options.logger.info({ connectors: released }, "attention cleared by the new capture leader");
  }

  async start(): Promise<void> {
    const { options } = this;
    this.startedAt = await ledgerNow(options.pool, options.schema);
    await ensureConnectorRows(
      options.pool,
      options.schema,
      options.connectors.map((c) => c.name),
    );
    for (const connector of options.connectors) {
      const adapter = options.adapters.get(connector.name);
      if (!adapter) throw new Error(`no adapter was created for connector ${connector.name}`);
      const pollMs = options.pollMs ?? Math.min(250, Math.max(20, connector.batch.maxWaitMs / 2));
      const worker = connector.dryRun
        ? new DryRunPreview({ connector, pool: options.pool, schema: options.schema, pollMs, logger: options.logger })
        : new DeliveryWorker({
            connector,
            adapter,
            pool: options.pool,
            schema: options.schema,
            owner: options.owner,
            leaseMs: options.leaseMs ?? 60_000,
            pollMs,
            renderBody: options.renderBody,
            logger: options.logger,
            ...(options.events ? { events: options.events } : {}),
            ...(options.scheduleClock ? { scheduleClock: options.scheduleClock } : {}),
          });
      this.workers.set(connector.name, worker);
      worker.start();
      const heartbeat = new ConnectorHeartbeat(
        connector,
        adapter,
        options.pool,
        options.schema,
        options.logger,
        options.events,
      );
      heartbeat.start();
      this.heartbeats.push(heartbeat);
      const rotateMs = adapter.rotateAfterMs;
      if (rotateMs !== undefined && !connector.dryRun) {
        const rotation = new DropRotationTask(
          connector.name,
          rotateMs,
          adapter,
          options.pool,
          options.schema,
          options.logger,
        );
        rotation.start();
        this.rotations.push(rotation);
      }
    }
    const retention = options.retention;
    if (retention) {
      this.retentionTimer = setInterval(() => {
        this.pruning ??= pruneLedger(options.pool, options.schema, retention)
          .then((report) => {
            if (report.deliveries + report.feed + report.audit + report.batches > 0) {
              options.logger.info({ pruned: report }, "ledger retention");
            }
          })
          .catch((error: unknown) => options.logger.warn({ err: error }, "ledger retention failed; will try again"))
          .finally(() => {
            this.pruning = undefined;
          });
      }, retention.everyMs ?? 60_000);
      this.retentionTimer.unref();
    }
  }

  /** Deliveries were queued for these connectors (or all): claim now rather than at the next poll. */
  wake(connectors?: Iterable<string>): void {
    if (!connectors) {
      for (const worker of this.workers.values()) worker.wake();
      return;
    }
    for (const name of connectors) this.workers.get(name)?.wake();
  }

  async stop(): Promise<void> {
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    await Promise.all([...this.workers.values()].map((w) => w.stop()));
    await Promise.all(this.heartbeats.map((h) => h.stop()));
    await Promise.all(this.rotations.map((r) => r.stop()));
    await this.pruning;
    await Promise.all([...this.options.adapters.values()].map((a) => a.close().catch(() => undefined)));
  }
}
