// What a caller may tune on one ESS process; read by each wiring, so it sits apart from the engine that composes them.
import type { HeartbeatEvents } from "../delivery/connector-heartbeat.js";
import type { DeliveryEvents } from "../delivery/delivery-worker.js";
import type { Logger } from "../ops/logger.js";

export type EngineEvents = DeliveryEvents & HeartbeatEvents;

export interface EngineOptions {
  readonly logger: Logger;
  /** How long a claimed batch stays with this process without a lease renewal. */
  readonly leaseMs?: number;
  readonly pollMs?: number;
  readonly statusIntervalMs?: number;
  /** Metric and test hooks. */
  readonly events?: EngineEvents;
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
