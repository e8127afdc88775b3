// One ESS process: capture (replication → feed + deliveries in one ledger transaction), the
// delivery workers and the operator endpoints, built from a validated configuration.
import { hostname } from "node:os";
import pg from "pg";
import { type Adapter, createAdapter } from "./adapters/index.js";
import { CaptureLeadership, fenceFormerLeader } from "./capture/capture-leadership.js";
import { CaptureService, type CaptureStatus } from "./capture/capture-service.js";
import { DeliveryPlanner } from "./capture/delivery-planner.js";
import type { TableRef } from "./change/change.js";
import type { ConnectorConfig, EssConfig } from "./config/types.js";
import type { HeartbeatEvents } from "./delivery/connector-heartbeat.js";
import { DeliveryService } from "./delivery/delivery-service.js";
import type { DeliveryEvents } from "./delivery/delivery-worker.js";
import { PullService } from "./inbound/pull-service.js";
import { copyDeliveries, insertDeliveries } from "./ledger/delivery-writer.js";
import { type CompiledMapping, compileMapping } from "./mapping/index.js";
import type { HttpAddress } from "./ops/http-server.js";
import type { Logger } from "./ops/logger.js";
import { EssMetrics } from "./ops/metrics.js";
import { OpsService } from "./ops/ops-service.js";
import type { ReadinessReport } from "./ops/readiness.js";
import type { ReplicationReading } from "./ops/replication-monitor.js";
import { primaryUrl } from "./source/source-hosts.js";
import { primaryKeyColumns } from "./source/table-keys.js";

export interface EngineOptions {
  readonly logger: Logger;
  /** How long a claimed batch stays with this process without a lease renewal. */
  readonly leaseMs?: number;
  readonly pollMs?: number;
  readonly statusIntervalMs?: number;
  /** Metric and test hooks. */
  readonly events?: DeliveryEvents & HeartbeatEvents;
  /** Run only the delivery side (no replication), e.g. a second worker process on the same ledger. */
  readonly captureEnabled?: boolean;
  /** Process metrics (CPU, memory, event loop) on /metrics; default true. */
  readonly processMetrics?: boolean;
  /** Trust a changed source once (another server, timeline or a new slot): `essctl start --accept-source-change`. */
  readonly acceptSourceChange?: boolean;
  /** How often a standby asks for capture leadership (default 1 s). */
  readonly leaderPollMs?: number;
  /** The wall clock delivery schedules are read on; the system clock when absent. */
  readonly scheduleClock?: () => Date;
}

/** What this process does for capture: leads it, stands by to take over, or never captures (--no-capture). */
export type EngineRole = "leader" | "standby" | "delivery-only";

type EngineEvents = DeliveryEvents & HeartbeatEvents;

export class EngineSetupError extends Error {
  override readonly name = "EngineSetupError";
}

export class EssEngine {
  private capture: CaptureService | undefined;
  private leadership: CaptureLeadership | undefined;
  private delivery: DeliveryService | undefined;
  private pulls: PullService | undefined;
  private running: Promise<void> | undefined;
  /** Settles when stop() is called: a delivery-only engine runs until then. */
  private stopRequested: Promise<void>;
  private requestStop: () => void = () => undefined;
  readonly pool: pg.Pool;
  /** The Prometheus registry behind /metrics, fed by this engine's delivery events. */
  readonly metrics: EssMetrics;
  private readonly ops: OpsService;
  private readonly events: EngineEvents;

  private constructor(
    readonly config: EssConfig,
    readonly mappings: readonly CompiledMapping[],
    private readonly adapters: ReadonlyMap<string, Adapter>,
    private readonly options: EngineOptions,
    /** database.url as configured: with several hosts, capture asks each session which one is the primary. */
    private readonly sourceHosts: string = config.database.url,
  ) {
    this.stopRequested = new Promise<void>((resolve) => {
      this.requestStop = resolve;
    });
    this.pool = new pg.Pool({
      connectionString: config.ledger.url ?? config.database.url,
      application_name: "ess-delivery",
      max: Math.max(4, config.connectors.length * 2 + 2),
    });
    this.pool.on("error", (error) => options.logger.warn({ err: error }, "idle ledger connection failed"));
    this.metrics = new EssMetrics({
      connectors: config.connectors.map((c) => c.name),
      targets: config.mappings.flatMap((m) => m.targets.map((t) => ({ connector: t.connector, mapping: m.name }))),
      processMetrics: options.processMetrics ?? true,
    });
    this.events = combineEvents(this.metrics.events(), options.events);
    this.ops = new OpsService({
      config,
      metrics: this.metrics,
      ledgerPool: this.pool,
      captureEnabled: options.captureEnabled !== false,
      capture: () => this.capture?.status(),
      role: () => this.competingRole(),
      logger: options.logger,
    });
    this.metrics.setCaptureLeader(false);
  }

  /** Leader, standby or delivery-only; a capture-enabled process is a standby until it holds the leadership lock. */
  role(): EngineRole {
    return this.competingRole() ?? "standby";
  }

  /** Undefined until this process competes for capture leadership (before start()). */
  private competingRole(): EngineRole | undefined {
    if (this.options.captureEnabled === false) return "delivery-only";
    return this.leadership?.role;
  }

  /** Resolves mapping keys against the source database, compiles the mappings and creates the adapters. */
  static async create(config: EssConfig, options: EngineOptions): Promise<EssEngine> {
    const connectors = new Map<string, ConnectorConfig>(config.connectors.map((c) => [c.name, c]));
    // Several source hosts: the one accepting writes now. The ledger, when it lives in the source
    // database, stays with that host; give it its own ledger.url to survive a source failover.
    const primary = await primaryUrl(config.database.url);
    const runtime: EssConfig =
      primary === config.database.url
        ? config
        : {
            ...config,
            database: { ...config.database, url: primary },
            ledger: { ...config.ledger, url: config.ledger.url ?? primary },
          };
    const source = new pg.Client({ connectionString: primary, application_name: "ess-setup" });
    await source.connect();
    const compiled: CompiledMapping[] = [];
    try {
      for (const mapping of config.mappings) {
        // The primary key is only looked up where it is the ordering key.
        const table = mapping.source.key ? undefined : mapping.source.table;
        const keyColumns = table ? await primaryKeyColumns(source, table) : undefined;
        const result = compileMapping(mapping, connectors, { keyColumns });
        if (!result.mapping) {
          throw new EngineSetupError(result.errors.map((e) => e.message).join("\n"));
        }
        compiled.push(result.mapping);
      }
    } finally {
      await source.end();
    }
    const adapters = new Map<string, Adapter>(
      config.connectors.map((c) => [c.name, createAdapter(c, { logger: options.logger })]),
    );
    return new EssEngine(runtime, compiled, adapters, options, config.database.url);
  }

  /** Starts delivery, then capture; the returned promise settles when the engine stops (or capture fails for good). */
  start(): Promise<void> {
    if (this.running) return this.running;
    const { config, options } = this;
    const owner = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
    const byName = new Map(this.mappings.map((m) => [m.config.name, m]));
    this.delivery = new DeliveryService({
      connectors: config.connectors,
      adapters: this.adapters,
      pool: this.pool,
      schema: config.ledger.schema,
      owner,
      leaseMs: options.leaseMs ?? 60_000,
      ...(options.pollMs ? { pollMs: options.pollMs } : {}),
      renderBody: (batch, records) => {
        const target = byName.get(batch.mapping)?.targets[batch.targetIndex];
        if (!target) return { body: Buffer.concat(records) };
        const body = target.renderBatchBody(records, { createdAt: batch.createdAt, sequence: batch.sequence });
        return target.fileHeader ? { body, fileHeader: target.fileHeader } : { body };
      },
      retention: { deliveredMs: config.ledger.retention.deliveredMs, auditMs: config.ledger.retention.auditMs },
      logger: options.logger,
      events: this.events,
      ...(options.scheduleClock ? { scheduleClock: options.scheduleClock } : {}),
    });
    const tables = uniqueTables(this.mappings);
    const planner = new DeliveryPlanner(this.mappings);
    const delivery = this.delivery;
    this.pulls = new PullService({
      connectors: config.connectors,
      pool: this.pool,
      schema: config.ledger.schema,
      logger: options.logger,
      metrics: this.metrics,
    });
    const pulls = this.pulls;
    this.running = (async () => {
      await delivery.start();
      pulls.start();
      if (options.captureEnabled === false) {
        // Delivery only: the workers run on their own timers until stop().
        await this.stopRequested;
        return;
      }
      this.ops.startMonitoring();
      const leadership = new CaptureLeadership({
        ledgerUrl: config.ledger.url ?? config.database.url,
        schema: config.ledger.schema,
        slot: config.replication.slot,
        owner,
        logger: options.logger,
        ...(options.leaderPollMs ? { pollMs: options.leaderPollMs } : {}),
        onRole: (role) => this.metrics.setCaptureLeader(role === "leader"),
      });
      this.leadership = leadership;
      let accepted = false;
      await leadership.run(async (term) => {
        // Only the leader may change what a running leader owns; it lifts the attention holds once it leads.
        await delivery.releaseAttentionHolds();
        await this.fenceFormerLeader();
        const capture = new CaptureService({
          sourceUrl: this.sourceHosts,
          ledgerUrl: config.ledger.url ?? config.database.url,
          schema: config.ledger.schema,
          slot: config.replication.slot,
          publication: config.replication.publication,
          plugin: config.replication.plugin,
          tables,
          heartbeatMs: config.replication.heartbeatMs,
          logger: options.logger,
          acceptSourceChange: options.acceptSourceChange === true && !accepted,
          failover: config.replication.failover,
          mappingNames: this.mappings.map((m) => m.config.name),
          ...(options.statusIntervalMs ? { statusIntervalMs: options.statusIntervalMs } : {}),
          hooks: {
            sameTransaction: (changes) => {
              const planned = planner.plan(changes);
              if (planned.length === 0) return undefined;
              return async (client, fresh) => {
                // New changes have new deliveries: written once by COPY. A change read again
                // after a restart may have its deliveries stored already: the token drops those.
                if (fresh) await copyDeliveries(client, config.ledger.schema, planned);
                else await insertDeliveries(client, config.ledger.schema, planned);
              };
            },
            onDurable: () => delivery.wake(),
          },
        });
        accepted = true;
        this.capture = capture;
        const stopCapture = () => void capture.stop();
        term.addEventListener("abort", stopCapture, { once: true });
        try {
          if (!term.aborted) await capture.run();
        } finally {
          term.removeEventListener("abort", stopCapture);
          this.capture = undefined;
        }
      });
    })();
    return this.running;
  }

  /** Ends a former leader's replication session still holding the slot (its machine may be gone). */
  private async fenceFormerLeader(): Promise<void> {
    let source: pg.Client | undefined;
    try {
      source = new pg.Client({
        connectionString: await primaryUrl(this.sourceHosts),
        application_name: "ess-capture-setup",
      });
      source.on("error", () => undefined);
      await source.connect();
      await fenceFormerLeader(source, this.config.replication.slot, this.options.logger);
    } catch (error) {
      // The capture session reports an unreachable source and retries.
      this.options.logger.debug({ err: error }, "cannot check the slot for a former leader's session");
    } finally {
      await source?.end().catch(() => undefined);
    }
  }

  captureStatus(): CaptureStatus | undefined {
    return this.capture?.status();
  }

  /** Serves /metrics, /healthz, /readyz and POST /inbound/<connector> on `http.listen`; returns the bound address. */
  listen(): Promise<HttpAddress> {
    return this.ops.listen();
  }

  /** Where the HTTP endpoints listen (after listen()). */
  httpAddress(): HttpAddress | undefined {
    return this.ops.address();
  }

  /** Where partners and applications call (`http.inbound.listen`, else `http.listen`). */
  inboundAddress(): HttpAddress | undefined {
    return this.ops.inboundAddress();
  }

  /** What /readyz answers: replication connected and moving, the ledger reachable. */
  readiness(): Promise<ReadinessReport> {
    return this.ops.readinessReport();
  }

  /** The last sample of the slot: lag, retained WAL and whether replication is stalled. */
  replicationStatus(): ReplicationReading | undefined {
    return this.ops.replication();
  }

  /** Graceful: capture stores what it received, workers finish their batch in hand. */
  async stop(): Promise<void> {
    this.requestStop();
    this.ops.markStopping();
    this.leadership?.stop();
    await this.capture?.stop();
    await this.running?.catch(() => undefined);
    await this.pulls?.stop();
    await this.delivery?.stop();
    await this.ops.stop();
    await this.pool.end();
  }
}

/** Metrics first, then the caller's hooks (tests). */
function combineEvents(metrics: EngineEvents, extra: EngineEvents | undefined): EngineEvents {
  if (!extra) return metrics;
  return {
    onItem: (connector, verdict, commitTime, mapping) => {
      metrics.onItem?.(connector, verdict, commitTime, mapping);
      extra.onItem?.(connector, verdict, commitTime, mapping);
    },
    onBatch: (connector, batch, durationMs) => {
      metrics.onBatch?.(connector, batch, durationMs);
      extra.onBatch?.(connector, batch, durationMs);
    },
    onDropDone: (connector, nextDrop) => {
      metrics.onDropDone?.(connector, nextDrop);
      extra.onDropDone?.(connector, nextDrop);
    },
    onTransition: (connector, state) => {
      metrics.onTransition?.(connector, state);
      extra.onTransition?.(connector, state);
    },
    onProbe: (connector, up) => {
      metrics.onProbe?.(connector, up);
      extra.onProbe?.(connector, up);
    },
  };
}

function uniqueTables(mappings: readonly CompiledMapping[]): TableRef[] {
  const seen = new Map<string, TableRef>();
  for (const m of mappings) {
    const t = m.config.source.table;
    if (t) seen.set(`${t.schema}.${t.name}`, t);
  }
  return [...seen.values()];
}
