// One ESS process: capture (replication → feed + deliveries in one ledger transaction), the
// delivery workers and the operator endpoints, built from a validated configuration. Each side
// is wired in src/engine/; this file only composes them and orders start and stop.
import { hostname } from "node:os";
import pg from "pg";
import type { Adapter } from "./adapters/index.js";
import type { CaptureStatus } from "./capture/capture-service.js";
import type { EssConfig } from "./config/types.js";
import type { DeliveryService } from "./delivery/delivery-service.js";
import { CaptureWiring } from "./engine/capture-wiring.js";
import { wireDelivery } from "./engine/delivery-wiring.js";
import type { EngineEvents, EngineOptions, EngineRole } from "./engine/engine-options.js";
import { prepareEngine } from "./engine/engine-setup.js";
import { wireOps } from "./engine/ops-wiring.js";
import type { PullService } from "./inbound/pull-service.js";
import type { CompiledMapping } from "./mapping/index.js";
import type { HttpAddress } from "./ops/http-server.js";
import type { EssMetrics } from "./ops/metrics.js";
import type { OpsService } from "./ops/ops-service.js";
import type { ReadinessReport } from "./ops/readiness.js";
import type { ReplicationReading } from "./ops/replication-monitor.js";

export type { EngineOptions, EngineRole } from "./engine/engine-options.js";
export { EngineSetupError, type EngineSetupErrorOptions } from "./engine/engine-setup.js";

/** How long a ledger connection may take to open; a loaded server answers well within it. */
const LEDGER_CONNECT_TIMEOUT_MS = 15_000;

export class EssEngine {
  private capture: CaptureWiring | undefined;
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
      // A database behind a path that swallows packets (a firewall, a failed switch) must not hold
      // a worker, or a stop, forever: a connect gives up and is retried like any ledger error.
      connectionTimeoutMillis: LEDGER_CONNECT_TIMEOUT_MS,
      keepAlive: true,
    });
    this.pool.on("error", (error) => options.logger.warn({ err: error }, "idle ledger connection failed"));
    const ops = wireOps({
      config,
      pool: this.pool,
      options,
      capture: () => this.capture?.status(),
      role: () => this.competingRole(),
    });
    this.metrics = ops.metrics;
    this.events = ops.events;
    this.ops = ops.ops;
  }

  /** Leader, standby or delivery-only; a capture-enabled process is a standby until it holds the leadership lock. */
  role(): EngineRole {
    return this.competingRole() ?? "standby";
  }

  /** Undefined until this process competes for capture leadership (before start()). */
  private competingRole(): EngineRole | undefined {
    if (this.options.captureEnabled === false) return "delivery-only";
    return this.capture?.role;
  }

  /**
   * Resolves mapping keys against the source database, compiles the mappings and creates the adapters.
   * A mapping that fails against the source throws EngineSetupError with each problem's location.
   */
  static async create(config: EssConfig, options: EngineOptions): Promise<EssEngine> {
    const { runtime, mappings, adapters } = await prepareEngine(config, options.logger);
    return new EssEngine(runtime, mappings, adapters, options, config.database.url);
  }

  /** Starts delivery, then capture; the returned promise settles when the engine stops (or capture fails for good). */
  start(): Promise<void> {
    if (this.running) return this.running;
    const { config, options } = this;
    const owner = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
    const { delivery, pulls } = wireDelivery({
      config,
      mappings: this.mappings,
      adapters: this.adapters,
      pool: this.pool,
      owner,
      options,
      events: this.events,
      metrics: this.metrics,
    });
    this.delivery = delivery;
    this.pulls = pulls;
    this.running = (async () => {
      await delivery.start();
      pulls.start();
      if (options.captureEnabled === false) {
        // Delivery only: the workers run on their own timers until stop().
        await this.stopRequested;
        return;
      }
      this.ops.startMonitoring();
      this.capture = new CaptureWiring({
        config,
        mappings: this.mappings,
        sourceHosts: this.sourceHosts,
        owner,
        options,
        delivery,
        metrics: this.metrics,
      });
      await this.capture.run();
    })();
    return this.running;
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
    await this.capture?.stop();
    await this.running?.catch(() => undefined);
    await this.pulls?.stop();
    await this.delivery?.stop();
    await this.ops.stop();
    await this.pool.end();
  }
}
