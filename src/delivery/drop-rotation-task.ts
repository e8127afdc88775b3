// Runs a drop adapter's rotation on a timer and audits every file it removed.
import type pg from "pg";
import type { Adapter } from "../adapters/adapter.js";
import { appendAudit } from "../ledger/audit.js";
import { withPooledClient } from "../ledger/queryable.js";
import type { Logger } from "../ops/logger.js";

/** Rotation runs at start and then at most hourly (more often for short periods, as tests use). */
const MAX_INTERVAL_MS = 60 * 60 * 1000;

export class DropRotationTask {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<readonly string[]> | undefined;

  constructor(
    private readonly connector: string,
    private readonly rotateMs: number,
    private readonly adapter: Adapter,
    private readonly pool: pg.Pool,
    private readonly schema: string,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (this.timer || !this.adapter.rotate) return;
    const tick = (): void => {
      this.running ??= this.rotateNow().finally(() => {
        this.running = undefined;
      });
    };
    this.timer = setInterval(tick, Math.max(1000, Math.min(MAX_INTERVAL_MS, this.rotateMs / 4)));
    this.timer.unref();
    tick();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One rotation now; a failure is logged and tried again at the next tick. */
  async rotateNow(now = new Date()): Promise<readonly string[]> {
    try {
      const removed = (await this.adapter.rotate?.(now, AbortSignal.timeout(60_000))) ?? [];
      if (removed.length > 0) {
        await withPooledClient(this.pool, (client) =>
          appendAudit(
            client,
            this.schema,
            removed.map((file) => ({ event: "rotated", connector: this.connector, detail: { file } })),
          ),
        );
        this.logger.info({ connector: this.connector, removed }, "drop files rotated");
      }
      return removed;
    } catch (error) {
      this.logger.warn({ err: error, connector: this.connector }, "drop rotation failed; will try again");
      return [];
    }
  }
}
