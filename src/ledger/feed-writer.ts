// Writes a batch of captured changes and the slot checkpoint to the ledger in one transaction.
import { pipeline } from "node:stream/promises";
import { type RawBuilder, sql } from "kysely";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import type { Lsn } from "../change/change.js";
import { formatLsn } from "../change/lsn.js";
import { faultPoint } from "../fault-points.js";
import { isUniqueViolation } from "../sql/pg-error.js";
import { quoteIdentifier } from "../sql/sql-identifier.js";
import { copyField, copyLines, copyStorableField } from "./copy-text.js";
import { affectedRows, type LedgerDb, ledgerDb, ledgerTable } from "./ledger-db.js";

export interface FeedRow {
  readonly commitLsn: Lsn;
  readonly ordinal: number;
  readonly xid: number;
  readonly commitTime: Date;
  readonly op: "insert" | "update" | "delete" | "truncate" | "message";
  readonly tableSchema: string | null;
  readonly tableName: string | null;
  readonly topic: string | null;
  /** Pre-rendered JSON text (see value-json.ts), so the hot path builds one string per batch. */
  readonly keyJson: string;
  readonly beforeJson: string;
  readonly afterJson: string;
}

export interface FeedBatch {
  readonly rows: readonly FeedRow[];
  /** End LSN of the last transaction completed by this batch: stored as the slot's checkpoint. */
  readonly checkpoint?: Lsn;
}

/**
 * Extra ledger work that must commit atomically with the feed rows (deliveries, audit). `fresh`
 * is true when the feed rows were all new (COPY succeeded), so what is derived from them is new too.
 */
export type SameTransactionWork = (client: pg.ClientBase, fresh: boolean) => Promise<void>;

export class FeedWriter {
  private readonly feed: RawBuilder<unknown>;
  private readonly checkpoints: RawBuilder<unknown>;
  private readonly copySql: string;

  constructor(
    /** The ledger schema, for what capture records beside the feed (the audit of a refused change). */
    readonly schema: string,
    private readonly slot: string,
  ) {
    this.feed = ledgerTable(schema, "feed");
    this.checkpoints = ledgerTable(schema, "checkpoints");
    this.copySql = `copy ${quoteIdentifier(schema)}.feed (commit_lsn, ordinal, xid, commit_time, op, table_schema,
      table_name, topic, key, before, after) from stdin`;
  }

  private db(client: pg.ClientBase): LedgerDb {
    return ledgerDb(client, this.schema);
  }

  /** The slot's checkpoint moves forward only: a batch read again after a restart never takes it back. */
  private async saveCheckpoint(client: pg.ClientBase, checkpoint: Lsn): Promise<void> {
    await sql`
      insert into ${this.checkpoints} (slot, confirmed_lsn) values (${this.slot}, ${formatLsn(checkpoint)}::pg_lsn)
      on conflict (slot) do update set confirmed_lsn = greatest(${this.checkpoints}.confirmed_lsn, excluded.confirmed_lsn),
             updated_at = now()`.execute(this.db(client));
  }

  /**
   * The slow path for rows some of which are stored already: the primary key drops those. One JSON
   * document per batch, unpacked by json_to_recordset, is faster than thousands of bind parameters.
   */
  private async insertRows(client: pg.ClientBase, rows: readonly FeedRow[]): Promise<number> {
    const result = await sql`
      insert into ${this.feed} (commit_lsn, ordinal, xid, commit_time, op, table_schema, table_name, topic, key, before, after)
      select r.commit_lsn, r.ordinal, r.xid, r.commit_time, r.op, r.table_schema, r.table_name, r.topic, r.key, r.before, r.after
        from json_to_recordset(${encodeRows(rows)}::json) as r(commit_lsn pg_lsn, ordinal integer, xid bigint,
             commit_time timestamptz, op text, table_schema text, table_name text, topic text, key json, before json,
             after json)
      on conflict (commit_lsn, ordinal) do nothing`.execute(this.db(client));
    return affectedRows(result);
  }

  /** Returns how many rows were new (the rest were already stored by an earlier run). */
  async write(client: pg.ClientBase, batch: FeedBatch, sameTransaction?: SameTransactionWork): Promise<number> {
    if (batch.rows.length > 0) {
      try {
        return await this.writeOnce(client, batch, sameTransaction, "copy");
      } catch (error) {
        // A change already stored (read again after a restart): this batch takes the slower
        // path that skips what is there. COPY cannot skip, and it is the common case by far.
        if (!isUniqueViolation(error)) throw error;
      }
    }
    return this.writeOnce(client, batch, sameTransaction, "insert");
  }

  /** Saves the checkpoint with other ledger work (discarding a stored transaction's spill) in one transaction. */
  async saveCheckpointWith(
    client: pg.ClientBase,
    checkpoint: Lsn,
    alsoInTransaction: (client: pg.ClientBase) => Promise<void>,
  ): Promise<void> {
    await client.query("begin");
    try {
      await alsoInTransaction(client);
      await this.saveCheckpoint(client, checkpoint);
      await client.query("commit");
    } catch (error) {
      await client.query("rollback").catch(() => undefined);
      throw error;
    }
  }

  private async writeRows(client: pg.ClientBase, rows: readonly FeedRow[], method: "copy" | "insert"): Promise<number> {
    if (rows.length === 0) return 0;
    if (method === "copy") {
      await pipeline(
        copyLines(rows, copyLine, () => faultPoint("capture-copy-midway")),
        client.query(copyFrom(this.copySql)),
      );
      return rows.length;
    }
    return this.insertRows(client, rows);
  }

  private async writeOnce(
    client: pg.ClientBase,
    batch: FeedBatch,
    sameTransaction: SameTransactionWork | undefined,
    method: "copy" | "insert",
  ): Promise<number> {
    await client.query("begin");
    try {
      const inserted = await this.writeRows(client, batch.rows, method);
      if (sameTransaction) await sameTransaction(client, method === "copy");
      if (batch.checkpoint !== undefined) {
        await this.saveCheckpoint(client, batch.checkpoint);
      }
      await client.query("commit");
      return inserted;
    } catch (error) {
      await client.query("rollback").catch(() => undefined);
      throw error;
    }
  }
}

/**
 * A JSON null is stored as SQL NULL, as the INSERT path (json_to_recordset) stores it. The JSON
 * text is storable as built (value-json.ts, storableEventText in capture).
 */
function jsonField(json: string): string {
  return json === "null" ? "\\N" : copyStorableField(json);
}

/** A feed row as a line of COPY text. */
function copyLine(r: FeedRow): string {
  return (
    `${formatLsn(r.commitLsn)}\t${r.ordinal}\t${r.xid}\t${r.commitTime.toISOString()}\t${r.op}\t` +
    `${copyField(r.tableSchema)}\t${copyField(r.tableName)}\t${copyField(r.topic)}\t` +
    `${jsonField(r.keyJson)}\t${jsonField(r.beforeJson)}\t${jsonField(r.afterJson)}\n`
  );
}

function encodeRows(rows: readonly FeedRow[]): string {
  const parts: string[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i] as FeedRow;
    parts[i] =
      `{"commit_lsn":"${formatLsn(r.commitLsn)}","ordinal":${r.ordinal},"xid":${r.xid},` +
      `"commit_time":"${r.commitTime.toISOString()}","op":"${r.op}",` +
      `"table_schema":${JSON.stringify(r.tableSchema)},"table_name":${JSON.stringify(r.tableName)},` +
      `"topic":${JSON.stringify(r.topic)},"key":${r.keyJson},"before":${r.beforeJson},"after":${r.afterJson}}`;
  }
  return `[${parts.join(",")}]`;
}
