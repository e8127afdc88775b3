// Everything an operator and a partner see of a running ESS: metrics, health, readiness with the
// stall rule, and the inbound lane, on `http.listen` (and the partners' side on
// `http.inbound.listen` when that is set, so /metrics and /readyz are not exposed to partners).
import type { IncomingMessage } from "node:http";
import pg from "pg";
import type { CaptureStatus } from "../capture/capture-service.js";
import type { EssConfig } from "../config/types.js";
import { Gateway } from "../gateway/gateway.js";
import { writeAnswerRow } from "../inbound/answer-table.js";
import { pingLedger, readConnectorGauges } from "../ledger/readings.js";
import { EventIntake } from "./event-intake.js";
import { type HttpAddress, OpsHttpServer } from "./http-server.js";
import { InboundLane } from "./inbound-lane.js";
import type { Logger } from "./logger.js";
import type { EssMetrics } from "./metrics.js";
import { Readiness, type ReadinessReport } from "./readiness.js";
import { ReplicationMonitor, type ReplicationReading } from "./replication-monitor.js";

export interface OpsServiceOptions {
  readonly config: EssConfig;
  readonly metrics: EssMetrics;
  /** The engine's ledger pool: inbound confirmations are writes like the workers'. */
  readonly ledgerPool: pg.Pool;
  readonly captureEnabled: boolean;
  readonly capture: () => CaptureStatus | undefined;
  /** Leader, standby or delivery-only, for /readyz; undefined until the process competes for capture. */
  /** The engine's role (leader, standby or delivery-only), for /readyz and essctl stats. */
  readonly role: () => "leader" | "standby" | "delivery-only" | undefined;
  readonly logger: Logger;
}

/** A scrape reuses ledger and slot readings this young, so many scrapers cost a few queries a second. */
const SCRAPE_CACHE_MS = 1_500;
/** Probes wait at most this long for a database: an unreachable one must fail /readyz, not hang it. */
const PROBE_TIMEOUT_MS = 2_000;

export class OpsService {
  readonly monitor: ReplicationMonitor | undefined;
  private readonly ledgerProbe: pg.Pool;
  private readonly sourceProbe: pg.Pool;
  private readonly readiness: Readiness;
  private readonly server: OpsHttpServer;
  /** The partners' listener, when `http.inbound.listen` is set. */
  private readonly partnerServer: OpsHttpServer | undefined;
  private readonly gateway: Gateway;
  private stopping = false;
  private gaugesAt = 0;
  private refreshingGauges: Promise<void> | undefined;
  private gaugesFailing = false;

  constructor(private readonly options: OpsServiceOptions) {
    const { config, logger } = options;
    const ledgerUrl = config.ledger.url ?? config.database.url;
    this.ledgerProbe = probePool(ledgerUrl, logger);
    this.sourceProbe = ledgerUrl === config.database.url ? this.ledgerProbe : probePool(config.database.url, logger);
    this.monitor = options.captureEnabled
      ? new ReplicationMonitor({
          source: this.sourceProbe,
          ledger: this.ledgerProbe,
          schema: config.ledger.schema,
          slot: config.replication.slot,
          stallAfterMs: config.replication.stallAfterMs,
          capture: options.capture,
          logger,
          metrics: options.metrics,
          mappings: config.mappings.map((m) => m.name),
        })
      : undefined;
    this.readiness = new Readiness({
      captureEnabled: options.captureEnabled,
      role: options.role,
      replicationConnected: () => options.capture()?.connected ?? false,
      pingLedger: () => pingLedger(this.ledgerProbe),
      replication: () => this.monitor?.latest(),
      stopping: () => this.stopping,
    });
    const inbound = new InboundLane({
      connectors: config.connectors,
      pool: options.ledgerPool,
      schema: config.ledger.schema,
      logger,
      metrics: options.metrics,
      alsoInTransaction: async (client, connector, answer, result) => {
        if (connector.answers) {
          await writeAnswerRow(
            client,
            connector.answers,
            { ...answer, connector: connector.name, via: "callback" },
            result,
          );
        }
      },
    });
    this.gateway = new Gateway({
      databaseUrl: config.database.url,
      ...(config.ledger.url ? { ledgerUrl: config.ledger.url } : {}),
      schema: config.ledger.schema,
      logger,
    });
    const events = new EventIntake({ auth: config.events, gateway: this.gateway, logger });
    const endpoints = {
      metrics: () => this.scrape(),
      readiness: () => this.readiness.report(),
      inbound: (connector: string, request: IncomingMessage) => inbound.receive(connector, request),
      events: (request: IncomingMessage) => events.send(request),
      receipt: (id: string, request: IncomingMessage) => events.receipt(id, request),
    };
    const split = config.http.inbound !== undefined;
    this.server = new OpsHttpServer(endpoints, logger, split ? "operators" : "all");
    this.partnerServer = split ? new OpsHttpServer(endpoints, logger, "partners") : undefined;
  }

  /** Starts sampling the replication slot (lag, retained WAL, the stall rule). */
  startMonitoring(): void {
    this.monitor?.start();
  }

  /** Serves the endpoints on `http.listen` and `http.inbound.listen` (port 0: any free port); returns the operators' address. */
  async listen(): Promise<HttpAddress> {
    const { http } = this.options.config;
    const address = await this.server.listen(http.host, http.port);
    if (this.partnerServer && http.inbound) {
      try {
        await this.partnerServer.listen(http.inbound.host, http.inbound.port, http.inbound.tls);
      } catch (error) {
        await this.server.close();
        throw error;
      }
    }
    return address;
  }

  address(): HttpAddress | undefined {
    return this.server.address();
  }

  /** Where partners and applications call: the partners' listener, or the one listener. */
  inboundAddress(): HttpAddress | undefined {
    return this.partnerServer ? this.partnerServer.address() : this.server.address();
  }

  readinessReport(): Promise<ReadinessReport> {
    return this.readiness.report();
  }

  replication(): ReplicationReading | undefined {
    return this.monitor?.latest();
  }

  /** From now on /readyz answers 503 "stopping", so balancers and probes look elsewhere. */
  markStopping(): void {
    this.stopping = true;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.monitor?.stop();
    await Promise.all([this.server.close(), this.partnerServer?.close()]);
    await this.refreshingGauges;
    await this.gateway.close();
    await this.ledgerProbe.end();
    if (this.sourceProbe !== this.ledgerProbe) await this.sourceProbe.end();
  }

  private async scrape(): Promise<{ contentType: string; text: string }> {
    await Promise.all([this.refreshGauges(), this.monitor?.read(SCRAPE_CACHE_MS)]);
    // Costs no query, so it is always current even when the slot reading comes from the cache.
    this.options.metrics.setReplicationConnected(this.options.capture()?.connected ?? false);
    return { contentType: this.options.metrics.contentType, text: await this.options.metrics.render() };
  }

  private refreshGauges(): Promise<void> {
    if (Date.now() - this.gaugesAt <= SCRAPE_CACHE_MS) return Promise.resolve();
    this.refreshingGauges ??= readConnectorGauges(this.ledgerProbe, this.options.config.ledger.schema)
      .then((values) => {
        this.options.metrics.setConnectorCounts(values);
        this.gaugesAt = Date.now();
        this.gaugesFailing = false;
      })
      .catch((error: unknown) => {
        // The scrape still answers with the last values; /readyz reports the ledger outage.
        if (!this.gaugesFailing) {
          this.options.logger.warn({ err: error }, "cannot read the ledger for the connector gauges");
        }
        this.gaugesFailing = true;
      })
      .finally(() => {
        this.refreshingGauges = undefined;
      });
    return this.refreshingGauges;
  }
}

function probePool(connectionString: string, logger: Logger): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    application_name: "ess-ops",
    max: 2,
    connectionTimeoutMillis: PROBE_TIMEOUT_MS,
    statement_timeout: PROBE_TIMEOUT_MS,
    query_timeout: PROBE_TIMEOUT_MS + 500,
    idleTimeoutMillis: 30_000,
  });
  // An idle probe connection dropped by the server is replaced on the next probe.
  pool.on("error", (error) => logger.debug({ err: error }, "idle probe connection closed"));
  return pool;
}
