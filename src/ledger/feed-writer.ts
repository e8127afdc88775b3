// Writes a batch of captured changes and the slot checkpoint to the ledger in one transaction.
import type pg from "pg";
import type { Lsn } from "../source/change.js";
import { formatLsn } from "../source/lsn.js";
import { quoteIdentifier } from "./sql-identifier.js";

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

/** Extra ledger work that must commit atomically with the feed rows (deliveries, audit). */
export type SameTransactionWork = (client: pg.ClientBase) => Promise<void>;

export class FeedWriter {
  private readonly insertSql: string;
  private readonly checkpointSql: string;

  constructor(
    schema: string,
    private readonly slot: string,
  ) {
    const s = quoteIdentifier(schema);
    // One JSON document per batch: PostgreSQL unpacks it with json_to_recordset, which is
    // faster than thousands of bind parameters; the primary key drops changes already stored.
    this.insertSql = `insert into ${s}.feed (commit_lsn, ordinal, xid, commit_time, op, table_schema, table_name, topic, key, before, after)
      select r.commit_lsn, r.ordinal, r.xid, r.commit_time, r.op, r.table_schema, r.table_name, r.topic, r.key, r.before, r.after
        from json_to_recordset($1::json) as r(commit_lsn pg_lsn, ordinal integer, xid bigint, commit_time timestamptz,
             op text, table_schema text, table_name text, topic text, key json, before json, after json)
      on conflict (commit_lsn, ordinal) do nothing`;
    this.checkpointSql = `insert into ${s}.checkpoints (slot, confirmed_lsn) values ($1, $2::pg_lsn)
      on conflict (slot) do update set confirmed_lsn = greatest(${s}.checkpoints.confirmed_lsn, excluded.confirmed_lsn), updated_at = now()`;
  }

  /** Returns how many rows were new (the rest were already stored by an earlier run). */
  async write(client: pg.ClientBase, batch: FeedBatch, sameTransaction?: SameTransactionWork): Promise<number> {
    await client.query("begin");
    try {
      let inserted = 0;
      if (batch.rows.length > 0) {
        const result = await client.query(this.insertSql, [encodeRows(batch.rows)]);
        inserted = result.rowCount ?? 0;
      }
      if (sameTransaction) await sameTransaction(client);
      if (batch.checkpoint !== undefined) {
        await client.query(this.checkpointSql, [this.slot, formatLsn(batch.checkpoint)]);
      }
      await client.query("commit");
      return inserted;
    } catch (error) {
      await client.query("rollback").catch(() => undefined);
      throw error;
    }
  }
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
