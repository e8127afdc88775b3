// The capture side of one process: compete for the leadership lock and, while leading, run one
// capture session whose ledger transaction also writes the deliveries planned for its changes.
import pg from "pg";
import { CaptureLeadership, type CaptureRole, fenceFormerLeader } from "../capture/capture-leadership.js";
import { CaptureService, type CaptureStatus } from "../capture/capture-service.js";
import { DeliveryPlanner } from "../capture/delivery-planner.js";
import type { TableRef } from "../change/change.js";
import type { EssConfig } from "../config/types.js";
import type { DeliveryService } from "../delivery/delivery-service.js";
import { copyDeliveries, insertDeliveries } from "../ledger/delivery-writer.js";
import type { CompiledMapping } from "../mapping/index.js";
import type { EssMetrics } from "../ops/metrics.js";
import { primaryUrl } from "../source/source-hosts.js";
import type { EngineOptions } from "./engine-options.js";

export interface CaptureWiringOptions {
  readonly config: EssConfig;
  readonly mappings: readonly CompiledMapping[];
  /** database.url as configured: with several hosts, capture asks each session which one is the primary. */
  readonly sourceHosts: string;
  readonly owner: string;
  readonly options: EngineOptions;
  /** Woken when captured changes are durable; its attention holds are lifted by each new leader. */
  readonly delivery: DeliveryService;
  readonly metrics: EssMetrics;
}

export class CaptureWiring {
  private leadership: CaptureLeadership | undefined;
  private capture: CaptureService | undefined;
  /** --accept-source-change holds for the first session only, not for later terms. */
  private accepted = false;
  private readonly planner: DeliveryPlanner;
  private readonly tables: readonly TableRef[];

  constructor(private readonly wiring: CaptureWiringOptions) {
    this.planner = new DeliveryPlanner(wiring.mappings);
    this.tables = uniqueTables(wiring.mappings);
  }

  /** Undefined until run() competes for the lock. */
  get role(): CaptureRole | undefined {
    return this.leadership?.role;
  }

  status(): CaptureStatus | undefined {
    return this.capture?.status();
  }

  /** Stands by and captures whenever this process leads; returns after stop(), or throws when capture fails for good. */
  run(): Promise<void> {
    const { config, owner, options, metrics } = this.wiring;
    const leadership = new CaptureLeadership({
      ledgerUrl: config.ledger.url ?? config.database.url,
      schema: config.ledger.schema,
      slot: config.replication.slot,
      owner,
      logger: options.logger,
      ...(options.leaderPollMs ? { pollMs: options.leaderPollMs } : {}),
      onRole: (role) => metrics.setCaptureLeader(role === "leader"),
    });
    this.leadership = leadership;
    return leadership.run((term) => this.lead(term));
  }

  /** Gives up the lock; the running session stores what it received. */
  async stop(): Promise<void> {
    this.leadership?.stop();
    await this.capture?.stop();
  }

  private async lead(term: AbortSignal): Promise<void> {
    const { config, options, delivery } = this.wiring;
    // Only the leader may change what a running leader owns; it lifts the attention holds once it leads.
    await delivery.releaseAttentionHolds();
    await this.fenceFormerLeader();
    const capture = new CaptureService({
      sourceUrl: this.wiring.sourceHosts,
      ledgerUrl: config.ledger.url ?? config.database.url,
      schema: config.ledger.schema,
      slot: config.replication.slot,
      publication: config.replication.publication,
      plugin: config.replication.plugin,
      tables: this.tables,
      heartbeatMs: config.replication.heartbeatMs,
      logger: options.logger,
      acceptSourceChange: options.acceptSourceChange === true && !this.accepted,
      failover: config.replication.failover,
      mappingNames: this.wiring.mappings.map((m) => m.config.name),
      ...(options.statusIntervalMs ? { statusIntervalMs: options.statusIntervalMs } : {}),
      hooks: {
        sameTransaction: (changes) => {
          const planned = this.planner.plan(changes);
          if (planned.length === 0) return undefined;
          return async (client, fresh) => {
            // New changes have new deliveries: written once by COPY. A change read again
            // after a restart may have its deliveries stored already: the token drops those.
            if (fresh) await copyDeliveries(client, config.ledger.schema, planned);
            else await insertDeliveries(client, config.ledger.schema, planned);
          };
        },
        readsRowsOf: (table) => this.planner.readsRowsOf(table),
        onDurable: () => delivery.wake(),
      },
    });
    this.accepted = true;
    this.capture = capture;
    const stopCapture = () => void capture.stop();
    term.addEventListener("abort", stopCapture, { once: true });
    try {
      if (!term.aborted) await capture.run();
    } finally {
      term.removeEventListener("abort", stopCapture);
      this.capture = undefined;
    }
  }

  /** Ends a former leader's replication session still holding the slot (its machine may be gone). */
  private async fenceFormerLeader(): Promise<void> {
    const { config, options } = this.wiring;
    let source: pg.Client | undefined;
    try {
      source = new pg.Client({
        connectionString: await primaryUrl(this.wiring.sourceHosts),
        application_name: "ess-capture-setup",
      });
      source.on("error", () => undefined);
      await source.connect();
      await fenceFormerLeader(source, config.replication.slot, options.logger);
    } catch (error) {
      // The capture session reports an unreachable source and retries.
      options.logger.debug({ err: error }, "cannot check the slot for a former leader's session");
    } finally {
      await source?.end().catch(() => undefined);
    }
  }
}

function uniqueTables(mappings: readonly CompiledMapping[]): TableRef[] {
  const seen = new Map<string, TableRef>();
  for (const m of mappings) {
    const t = m.config.source.table;
    if (t) seen.set(`${t.schema}.${t.name}`, t);
  }
  return [...seen.values()];
}
