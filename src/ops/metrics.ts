// The Prometheus metrics of one ESS process (SPEC §6) in their own registry, fed by delivery events and samplers.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { HeartbeatEvents } from "../delivery/connector-heartbeat.js";
import type { DeliveryEvents } from "../delivery/delivery-worker.js";
import type { ItemVerdict } from "../ledger/batch-outcomes.js";
import { type ConnectorGaugeValues, DELIVERY_GAUGE_STATES } from "../ledger/readings.js";

export { type ConnectorGaugeValues, DELIVERY_GAUGE_STATES, type DeliveryGaugeState } from "../ledger/readings.js";

/** The delivery states `ess_deliveries{state}` counts: everything not yet delivered, and the dead letters. */

export interface ReplicationGaugeValues {
  readonly connected: boolean;
  readonly lagBytes: number;
  readonly lagSeconds: number;
  readonly retainedWalBytes: number;
  readonly stalled: boolean;
  /** Set when the slot is invalidated: the stall's cause label. */
  readonly invalidation?: string | null;
}

/** What an inbound callback came to, for `ess_inbound_callbacks_total{outcome}`. */
export type InboundOutcome =
  | "confirmed"
  | "rejected"
  | "duplicate"
  | "unauthenticated"
  | "forbidden"
  | "malformed"
  | "too_large"
  | "unknown_connector"
  | "unknown_correlation"
  | "error";

/**
 * Commit-to-acknowledgement latency spans sub-second REST calls to drop files collected by a
 * nightly batch window, hence buckets from 50 ms to a day.
 */
const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 24 * 3600];

export interface MetricsOptions {
  /** Connector names: their series exist (at zero) from the first scrape. */
  readonly connectors: readonly string[];
  /** Each mapping's targets: their success counters start at 0, so a rate exists before the first delivery. */
  readonly targets?: readonly { readonly connector: string; readonly mapping: string }[];
  /** Process metrics (CPU, memory, event loop); off in tests that build many registries. */
  readonly processMetrics?: boolean;
}

export class EssMetrics {
  readonly registry = new Registry();
  private readonly success: Counter<"connector" | "mapping">;
  private readonly failure: Counter<"connector" | "reason" | "mapping">;
  private readonly retryPending: Gauge<"connector">;
  private readonly deadLetters: Gauge<"connector">;
  private readonly deliveries: Gauge<"connector" | "state">;
  private readonly backlogAge: Gauge<"connector">;
  private readonly connectorUp: Gauge<"connector">;
  private readonly latency: Histogram<"connector">;
  private readonly lagBytes: Gauge;
  private readonly lagSeconds: Gauge;
  private readonly retainedWal: Gauge;
  private readonly connected: Gauge;
  private readonly stalled: Gauge<"cause">;
  private readonly inbound: Counter<"connector" | "outcome">;
  private readonly captureLeader: Gauge;
  private readonly known: ReadonlySet<string>;

  constructor(options: MetricsOptions) {
    const registers = [this.registry];
    this.known = new Set(options.connectors);
    this.success = new Counter({
      name: "ess_success_total",
      help: "Deliveries a partner accepted, by connector and mapping",
      labelNames: ["connector", "mapping"],
      registers,
    });
    this.failure = new Counter({
      name: "ess_failure_total",
      help: "Failed delivery attempts, by the adapter's reason (retried or dead) and mapping",
      labelNames: ["connector", "reason", "mapping"],
      registers,
    });
    this.retryPending = new Gauge({
      name: "ess_retry_pending",
      help: "Deliveries waiting for their next attempt after a failure",
      labelNames: ["connector"],
      registers,
    });
    this.deadLetters = new Gauge({
      name: "ess_dead_letters",
      help: "Deliveries in the dead letters (until replayed or purged)",
      labelNames: ["connector"],
      registers,
    });
    this.deliveries = new Gauge({
      name: "ess_deliveries",
      help: "Deliveries by state: pending, sending, retrying (not yet delivered) and dead (dead letters)",
      labelNames: ["connector", "state"],
      registers,
    });
    this.backlogAge = new Gauge({
      name: "ess_backlog_age_seconds",
      help: "Age of the oldest delivery not yet sent (0 when nothing waits)",
      labelNames: ["connector"],
      registers,
    });
    this.connectorUp = new Gauge({
      name: "ess_connector_up",
      help: "1 when the partner answers its heartbeat and the connector is not held for attention",
      labelNames: ["connector"],
      registers,
    });
    this.latency = new Histogram({
      name: "ess_delivery_latency_seconds",
      help: "From the source commit to the partner's acknowledgement",
      labelNames: ["connector"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.lagBytes = new Gauge({
      name: "ess_replication_lag_bytes",
      help: "pg_current_wal_lsn() minus the slot's confirmed_flush_lsn",
      registers,
    });
    this.lagSeconds = new Gauge({
      name: "ess_replication_lag_seconds",
      help: "Age of the last captured commit while the slot is behind; 0 when caught up",
      registers,
    });
    this.retainedWal = new Gauge({
      name: "ess_slot_retained_wal_bytes",
      help: "pg_current_wal_lsn() minus the slot's restart_lsn: WAL the server keeps for ESS",
      registers,
    });
    this.connected = new Gauge({
      name: "ess_replication_connected",
      help: "1 while the replication session is connected",
      registers,
    });
    this.stalled = new Gauge({
      name: "ess_replication_stalled",
      help: "1 when the slot's confirmed position has not moved for replication.stallAfter while WAL grew (cause no_progress), or the slot is invalidated (cause slot_invalidated)",
      labelNames: ["cause"],
      registers,
    });
    this.inbound = new Counter({
      name: "ess_inbound_callbacks_total",
      help: "Partner callbacks on /inbound/<connector>, by outcome",
      labelNames: ["connector", "outcome"],
      registers,
    });
    this.stalled.set(0);
    this.captureLeader = new Gauge({
      name: "ess_capture_leader",
      help: "1 while this process leads capture (holds the leadership lock); 0 on a standby or a delivery-only process",
      registers,
    });
    for (const { connector, mapping } of options.targets ?? []) this.success.inc({ connector, mapping }, 0);
    for (const connector of options.connectors) {
      this.latency.zero({ connector });
      this.retryPending.set({ connector }, 0);
      this.deadLetters.set({ connector }, 0);
      for (const state of DELIVERY_GAUGE_STATES) this.deliveries.set({ connector, state }, 0);
      this.backlogAge.set({ connector }, 0);
    }
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text for GET /metrics. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  recordItem(connector: string, verdict: ItemVerdict, commitTime: Date, mapping = "", now = Date.now()): void {
    if (verdict.verdict === "sent") {
      this.success.inc({ connector, mapping });
      this.latency.observe({ connector }, Math.max(0, (now - commitTime.getTime()) / 1000));
      return;
    }
    // Items a per-record adapter never got to (an earlier one failed) were not attempted: no failure.
    if (verdict.verdict === "retry" && verdict.spent === false) return;
    this.failure.inc({ connector, reason: verdict.reason, mapping });
  }

  setConnectorUp(connector: string, up: boolean): void {
    this.connectorUp.set({ connector }, up ? 1 : 0);
  }

  setConnectorCounts(values: readonly ConnectorGaugeValues[]): void {
    for (const v of values) {
      this.retryPending.set({ connector: v.connector }, v.deliveries.retrying);
      this.deadLetters.set({ connector: v.connector }, v.deliveries.dead);
      for (const state of DELIVERY_GAUGE_STATES) {
        this.deliveries.set({ connector: v.connector, state }, v.deliveries[state]);
      }
      this.backlogAge.set({ connector: v.connector }, v.oldestWaitingSeconds);
      this.setConnectorUp(v.connector, v.up);
    }
  }

  setReplication(values: ReplicationGaugeValues): void {
    this.connected.set(values.connected ? 1 : 0);
    this.lagBytes.set(values.lagBytes);
    this.lagSeconds.set(values.lagSeconds);
    this.retainedWal.set(values.retainedWalBytes);
    // One series at a time: unlabelled 0 while moving, 1 with the cause while stalled.
    this.stalled.reset();
    if (values.invalidation) this.stalled.set({ cause: "slot_invalidated" }, 1);
    else if (values.stalled) this.stalled.set({ cause: "no_progress" }, 1);
    else this.stalled.set(0);
  }

  setCaptureLeader(leader: boolean): void {
    this.captureLeader.set(leader ? 1 : 0);
  }

  setReplicationConnected(connected: boolean): void {
    this.connected.set(connected ? 1 : 0);
  }

  /** Unknown connector names come from request URLs: they share one label value, so they cannot grow the series. */
  recordInbound(connector: string, outcome: InboundOutcome): void {
    this.inbound.inc({ connector: this.known.has(connector) ? connector : "", outcome });
  }

  /** The delivery and heartbeat hooks that feed the counters. */
  events(): Required<DeliveryEvents & HeartbeatEvents> {
    return {
      onItem: (connector, verdict, commitTime, mapping) => this.recordItem(connector, verdict, commitTime, mapping),
      onBatch: () => undefined,
      onDropDone: () => undefined,
      onTransition: (connector, state) => this.setConnectorUp(connector, state === "online"),
      onProbe: () => undefined,
    };
  }
}
