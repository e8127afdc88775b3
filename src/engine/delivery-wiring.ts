// The delivery side of one process: workers that render each batch's body with its mapping's
// target, and the pulls that fetch partners' answers, both on the ledger pool.
import type pg from "pg";
import type { Adapter } from "../adapters/index.js";
import type { EssConfig } from "../config/types.js";
import { DeliveryService } from "../delivery/delivery-service.js";
import { PullService } from "../inbound/pull-service.js";
import type { CompiledMapping } from "../mapping/index.js";
import type { EssMetrics } from "../ops/metrics.js";
import type { EngineEvents, EngineOptions } from "./engine-options.js";

export interface DeliveryWiringOptions {
  readonly config: EssConfig;
  readonly mappings: readonly CompiledMapping[];
  readonly adapters: ReadonlyMap<string, Adapter>;
  readonly pool: pg.Pool;
  /** Who holds a claimed batch: this process, unique across restarts. */
  readonly owner: string;
  readonly options: EngineOptions;
  readonly events: EngineEvents;
  readonly metrics: EssMetrics;
}

export interface DeliveryWiring {
  readonly delivery: DeliveryService;
  readonly pulls: PullService;
}

export function wireDelivery({
  config,
  mappings,
  adapters,
  pool,
  owner,
  options,
  events,
  metrics,
}: DeliveryWiringOptions): DeliveryWiring {
  const byName = new Map(mappings.map((m) => [m.config.name, m]));
  const delivery = new DeliveryService({
    connectors: config.connectors,
    adapters,
    pool,
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
    events,
    ...(options.scheduleClock ? { scheduleClock: options.scheduleClock } : {}),
  });
  const pulls = new PullService({
    connectors: config.connectors,
    pool,
    schema: config.ledger.schema,
    logger: options.logger,
    metrics,
  });
  return { delivery, pulls };
}
