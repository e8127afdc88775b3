// Emits a non-transactional logical message on an interval, so a slot on an idle database keeps moving.
import pg from "pg";
import type { Logger } from "../ops/logger.js";
import { HEARTBEAT_MESSAGE_PREFIX } from "./feed-rows.js";

export class SourceHeartbeat {
  private timer: NodeJS.Timeout | undefined;
  private client: pg.Client | undefined;
  private busy = false;

  constructor(
    /** The source's URL, or the primary's of the moment when the source has several hosts. */
    private readonly connectionString: string | (() => string),
    private readonly everyMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (this.everyMs <= 0 || this.timer) return;
    this.timer = setInterval(() => void this.beat(), this.everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async beat(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      if (!this.client) {
        const connectionString =
          typeof this.connectionString === "string" ? this.connectionString : this.connectionString();
        const client = new pg.Client({ connectionString, application_name: "ess-heartbeat" });
        client.on("error", () => {
          this.client = undefined;
        });
        await client.connect();
        this.client = client;
      }
      await this.client.query("select pg_logical_emit_message(false, $1, '')", [HEARTBEAT_MESSAGE_PREFIX]);
    } catch (error) {
      // The replication session reports and retries connection trouble; a missed beat only delays slot movement.
      this.logger.debug({ err: error }, "source heartbeat failed");
      await this.client?.end().catch(() => undefined);
      this.client = undefined;
    } finally {
      this.busy = false;
    }
  }
}
