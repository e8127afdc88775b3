// The operators' side of one process: the metrics registry fed by delivery events, and the HTTP
// endpoints (/metrics, /healthz, /readyz, inbound) that report on capture and the ledger.
import type pg from "pg";
import type { CaptureStatus } from "../capture/capture-service.js";
import type { EssConfig } from "../config/types.js";
import { EssMetrics } from "../ops/metrics.js";
import { OpsService } from "../ops/ops-service.js";
import type { EngineEvents, EngineOptions, EngineRole } from "./engine-options.js";

export interface OpsWiring {
  readonly metrics: EssMetrics;
  /** Metrics first, then the caller's hooks: what the delivery workers report to. */
  readonly events: EngineEvents;
  readonly ops: OpsService;
}

export interface OpsWiringOptions {
  readonly config: EssConfig;
  readonly pool: pg.Pool;
  readonly options: EngineOptions;
  /** The running capture session's status, when this process leads. */
  readonly capture: () => CaptureStatus | undefined;
  /** Undefined until the process competes for capture leadership. */
  readonly role: () => EngineRole | undefined;
}

export function wireOps({ config, pool, options, capture, role }: OpsWiringOptions): OpsWiring {
  const metrics = new EssMetrics({
    connectors: config.connectors.map((c) => c.name),
    targets: config.mappings.flatMap((m) => m.targets.map((t) => ({ connector: t.connector, mapping: m.name }))),
    processMetrics: options.processMetrics ?? true,
  });
  const events = combineEvents(metrics.events(), options.events);
  const ops = new OpsService({
    config,
    metrics,
    ledgerPool: pool,
    captureEnabled: options.captureEnabled !== false,
    capture,
    role,
    logger: options.logger,
  });
  metrics.setCaptureLeader(false);
  return { metrics, events, ops };
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
