// The Gateway: applications send events into the replication stream (transactional outbox) and
// read back what became of them from the ledger.
import { randomUUID } from "node:crypto";
import pg from "pg";
import { EVENT_MESSAGE_PREFIX } from "../capture/feed-rows.js";
import { clearAttention, setPaused } from "../ledger/connector-state.js";
import { type DeliveryListing, listDeliveries } from "../ledger/delivery-queries.js";
import { withPooledClient } from "../ledger/queryable.js";
import { type EventDelivery, readEventTrace } from "../ledger/receipt-query.js";
import { type Logger, silentLogger } from "../ops/logger.js";
import { assertPlainIdentifier } from "../sql/sql-identifier.js";
import { type ApplicationEvent, eventMessage } from "./event-message.js";
import { databaseError, GatewaySetupError, InvalidReceiptIdError } from "./gateway-errors.js";
import { type ReceiptState, receiptState } from "./receipt-state.js";
import { type ReceiptUpdate, type WatchOptions, watchReceipt } from "./receipt-watch.js";

export interface GatewayOptions {
  /** The source (HMS) database, whose replication slot ESS reads. */
  readonly databaseUrl: string;
  /** The ledger's database when it is not the source database (ess.yaml `ledger.url`). */
  readonly ledgerUrl?: string;
  /** The ledger schema (ess.yaml `ledger.schema`); default ess. */
  readonly schema?: string;
  /** Where idle connection failures are reported; silent by default. */
  readonly logger?: Logger;
}

export interface SendOptions {
  /**
   * A client of the source database, usually inside the caller's transaction: the event then
   * commits or rolls back with the business change (transactional outbox). Without one, the
   * event is sent in a transaction of its own.
   */
  readonly client?: pg.ClientBase | pg.Pool;
}

export interface Receipt {
  /** Ask receipt(id) about the event later. */
  readonly id: string;
  readonly topic: string;
  /** Always "pending" on return from send(): nothing is delivered before the transaction commits. */
  readonly state: ReceiptState;
}

export interface ReceiptDetail {
  readonly id: string;
  readonly state: ReceiptState;
  /** Capture has stored the event; false while its transaction is open, or if it rolled back. */
  readonly captured: boolean;
  readonly commitTime: Date | null;
  /** One per mapping target the event matched; none when no mapping takes its topic. */
  readonly deliveries: readonly EventDelivery[];
}

const RECEIPT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Events travel as transactional logical messages (prefix "ess.event"): PostgreSQL decodes them
 * in commit order with the table changes, only if their transaction commits. Capture stores each
 * as a feed row and plans its deliveries like any change, so tokens come from the change identity.
 *
 * A receipt is read from the ledger while it keeps the event: after the retention period of
 * delivered rows (ledger.retention.delivered), an event's receipt reads "pending" again, as does
 * the receipt of an event whose transaction rolled back.
 */
export class Gateway {
  private readonly schema: string;
  private readonly logger: Logger;
  private sourcePool: pg.Pool | undefined;
  private ledgerPool: pg.Pool | undefined;
  private walLevelChecked: Promise<void> | undefined;

  constructor(private readonly options: GatewayOptions) {
    try {
      this.schema = assertPlainIdentifier("ledger schema", options.schema ?? "ess");
    } catch (error) {
      throw new GatewaySetupError((error as Error).message);
    }
    this.logger = options.logger ?? silentLogger();
  }

  /** Emits the event in the caller's transaction (options.client) or its own; returns a pending receipt. */
  async send(event: ApplicationEvent, options: SendOptions = {}): Promise<Receipt> {
    const id = randomUUID();
    const content = eventMessage(event, id);
    const db = options.client ?? this.source();
    await this.checkWalLevel(db);
    try {
      await db.query("select pg_logical_emit_message(true, $1::text, $2::text)", [EVENT_MESSAGE_PREFIX, content]);
    } catch (error) {
      throw databaseError("send", error);
    }
    return { id, topic: event.topic, state: "pending" };
  }

  /** The event's state now: "pending" | "sent" | "retrying" | "dead" | "confirmed" (see receiptState). */
  async receipt(id: string): Promise<ReceiptState> {
    return (await this.receiptDetail(id)).state;
  }

  /** The state together with each delivery (connector, state, attempts, token, last error). */
  async receiptDetail(id: string): Promise<ReceiptDetail> {
    if (typeof id !== "string" || !RECEIPT_ID.test(id)) throw new InvalidReceiptIdError(String(id));
    try {
      const trace = await readEventTrace(this.ledger(), this.schema, id);
      return { id, state: receiptState(trace.deliveries.map((d) => d.state)), ...trace };
    } catch (error) {
      throw databaseError("receipt", error);
    }
  }

  /**
   * Follows a receipt: yields its state on every change (LISTEN ess_receipts, with a fallback
   * poll) and ends once it is confirmed or options.signal aborts.
   *
   *     for await (const update of gw.watch(receipt.id)) console.log(update.state);
   */
  watch(id: string, options: WatchOptions = {}): AsyncGenerator<ReceiptUpdate, void, undefined> {
    if (typeof id !== "string" || !RECEIPT_ID.test(id)) throw new InvalidReceiptIdError(String(id));
    return watchReceipt(
      this.options.ledgerUrl ?? this.options.databaseUrl,
      id,
      () => this.receipt(id),
      this.logger,
      options,
    );
  }

  /** Holds a connector's deliveries, as `essctl pause` does (audited 'paused'); false if it already was. */
  async pause(connector: string): Promise<boolean> {
    return withPooledClient(this.ledger(), (client) => setPaused(client, this.schema, connector, true));
  }

  /** Releases a paused connector and lifts an attention hold, as `essctl resume` does; false if nothing changed. */
  async resume(connector: string): Promise<boolean> {
    return withPooledClient(this.ledger(), async (client) => {
      const changed = await setPaused(client, this.schema, connector, false);
      const released = await clearAttention(client, this.schema, [connector]);
      return changed || released.length > 0;
    });
  }

  /** The dead letters (newest first), optionally of one connector and since a time. */
  async failed(options: { since?: Date; connector?: string; limit?: number } = {}): Promise<DeliveryListing[]> {
    try {
      return await listDeliveries(this.ledger(), this.schema, {
        state: "dead",
        limit: options.limit ?? 1000,
        ...(options.since ? { since: options.since } : {}),
        ...(options.connector ? { connector: options.connector } : {}),
      });
    } catch (error) {
      throw databaseError("receipt", error);
    }
  }

  /** Closes the Gateway's own connections (a caller's client is left alone). */
  async close(): Promise<void> {
    const pools = [this.sourcePool, this.ledgerPool].filter((p): p is pg.Pool => p !== undefined);
    this.sourcePool = undefined;
    this.ledgerPool = undefined;
    await Promise.all([...new Set(pools)].map((p) => p.end()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private source(): pg.Pool {
    this.sourcePool ??= this.pool(this.options.databaseUrl);
    return this.sourcePool;
  }

  private ledger(): pg.Pool {
    if (!this.options.ledgerUrl) return this.source();
    this.ledgerPool ??= this.pool(this.options.ledgerUrl);
    return this.ledgerPool;
  }

  private pool(connectionString: string): pg.Pool {
    // allowExitOnIdle: a script that sends one event ends without having to call close().
    const pool = new pg.Pool({ connectionString, application_name: "ess-gateway", allowExitOnIdle: true });
    pool.on("error", (error) => this.logger.warn({ err: error }, "an idle Gateway connection failed"));
    return pool;
  }

  /**
   * Below wal_level=logical, pg_logical_emit_message() succeeds but nothing ever decodes the
   * message: the event would be lost silently. Checked once per Gateway.
   */
  private async checkWalLevel(db: pg.ClientBase | pg.Pool): Promise<void> {
    this.walLevelChecked ??= (async () => {
      let level: string | undefined;
      try {
        const result = await db.query<{ wal_level: string }>("select current_setting('wal_level') as wal_level");
        level = result.rows[0]?.wal_level;
      } catch (error) {
        throw databaseError("send", error);
      }
      if (level !== "logical") {
        throw new GatewaySetupError(
          `the source database runs with wal_level=${level}: events can only be captured with wal_level=logical`,
          "alter system set wal_level = logical;  -- then restart PostgreSQL",
        );
      }
    })();
    try {
      await this.walLevelChecked;
    } catch (error) {
      // A failed check (a connection blip, an aborted caller transaction) is tried again next time.
      this.walLevelChecked = undefined;
      throw error;
    }
  }
}
