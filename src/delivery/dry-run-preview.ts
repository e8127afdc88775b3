// dryRun: logs the payloads a connector would send and leaves its deliveries untouched, so they
// are sent for real once dryRun is turned off (nothing is marked sent, no success is counted).
import type pg from "pg";
import { redactSecrets } from "../config/secrets.js";
import type { ConnectorConfig } from "../config/types.js";
import { waitingDeliveries } from "../ledger/delivery-queries.js";
import type { Logger } from "../ops/logger.js";

const PREVIEW_BYTES = 2000;

export interface DryRunPreviewOptions {
  readonly connector: ConnectorConfig;
  readonly pool: pg.Pool;
  readonly schema: string;
  readonly pollMs: number;
  readonly logger: Logger;
}

export class DryRunPreview {
  /** Deliveries up to this id were logged by this process already. */
  private shownThrough = 0n;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly options: DryRunPreviewOptions) {}

  start(): void {
    this.schedule(0);
  }

  wake(): void {
    if (!this.running && !this.stopped) this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.showNew()
        .catch((error: unknown) =>
          this.options.logger.warn({ err: error, connector: this.options.connector.name }, "dry run preview failed"),
        )
        .finally(() => {
          this.running = undefined;
          this.schedule(this.options.pollMs);
        });
    }, ms);
  }

  private async showNew(): Promise<void> {
    const { connector, pool, schema, logger } = this.options;
    const rows = await waitingDeliveries(
      pool,
      schema,
      connector.name,
      this.shownThrough.toString(),
      connector.batch.maxRecords,
    );
    for (const row of rows) {
      logger.info(
        {
          connector: connector.name,
          deliveryId: row.id,
          token: row.token,
          correlationId: row.correlationId,
          dryRun: true,
          payload: redactSecrets((row.payload ?? Buffer.alloc(0)).subarray(0, PREVIEW_BYTES).toString("latin1")),
        },
        "dry run: not sent",
      );
      this.shownThrough = BigInt(row.id);
    }
  }
}
