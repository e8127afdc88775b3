// Probes one partner on an interval; after `offlineAfter` failures the connector is offline
// (its deliveries are held without spending attempts) and it comes back online by itself.
import type pg from "pg";
import type { Adapter } from "../adapters/adapter.js";
import type { ConnectorConfig } from "../config/types.js";
import { holdForAttention, recordHeartbeat } from "../ledger/connector-state.js";
import type { Logger } from "../ops/logger.js";

export interface HeartbeatEvents {
  onTransition?(connector: string, state: "online" | "offline"): void;
  onProbe?(connector: string, up: boolean): void;
}

export class ConnectorHeartbeat {
  private timer: NodeJS.Timeout | undefined;
  private probing: Promise<void> | undefined;

  constructor(
    private readonly connector: ConnectorConfig,
    private readonly adapter: Adapter,
    private readonly pool: pg.Pool,
    private readonly schema: string,
    private readonly logger: Logger,
    private readonly events: HeartbeatEvents = {},
  ) {}

  /**
   * Probes at once, then every `heartbeat.every`. Until the first probe answers, the connector
   * keeps the state the ledger last recorded (a partner that was offline stays held).
   */
  start(): void {
    if (this.timer || this.connector.heartbeat.everyMs <= 0) return;
    const tick = (): void => {
      this.probing ??= this.probe().finally(() => {
        this.probing = undefined;
      });
    };
    this.timer = setInterval(tick, this.connector.heartbeat.everyMs);
    this.timer.unref();
    tick();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.probing;
  }

  /** One probe now (also used by tests and by `essctl check`). */
  async probe(): Promise<void> {
    const { connector } = this;
    let error: Error | undefined;
    try {
      await this.adapter.heartbeat(AbortSignal.timeout(Math.max(1000, connector.heartbeat.everyMs)));
    } catch (caught) {
      error = caught as Error;
    }
    this.events.onProbe?.(connector.name, !error);
    try {
      const transition = await recordHeartbeat(
        this.pool,
        this.schema,
        connector.name,
        !error,
        connector.heartbeat.offlineAfter,
        error?.message,
      );
      // A probe that meets a problem only an operator can fix (a changed host key, refused
      // credentials) holds the connector with the reason instead of letting deliveries spend retries.
      if (error !== undefined && needsOperator(error)) {
        if (await holdForAttention(this.pool, this.schema, connector.name, error.message)) {
          this.logger.error({ connector: connector.name, err: error }, "connector held for attention");
        }
      }
      if (transition) {
        this.logger.warn({ connector: connector.name, state: transition, err: error }, `connector ${transition}`);
        this.events.onTransition?.(connector.name, transition);
      }
    } catch (ledgerError) {
      this.logger.error({ err: ledgerError, connector: connector.name }, "could not record a heartbeat");
    }
  }
}

/** An adapter's or a drop target's error that only an operator can resolve (its `failure` is "attention"). */
function needsOperator(error: Error): boolean {
  return (error as Error & { failure?: unknown }).failure === "attention";
}
