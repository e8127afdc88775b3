// The ledger side of a backfill: a lock that orders its inserts against capture's, and what the
// stream already delivered of the rows it is about to queue.
import { sql } from "kysely";
import type pg from "pg";
import type { Lsn, TableRef } from "../change/change.js";
import { parseLsn } from "../change/lsn.js";
import { ledgerDb, ledgerTable } from "./ledger-db.js";

/**
 * Locks delivery_items against capture's writers for the rest of the caller's transaction (at
 * most 30 s of waiting): capture and the workers wait a moment; readers (essctl, receipts) do not.
 */
export async function lockDeliveriesAgainstCapture(client: pg.ClientBase, schema: string): Promise<void> {
  const db = ledgerDb(client, schema);
  await sql`set local lock_timeout = '30s'`.execute(db);
  await sql`lock table ${ledgerTable(schema, "delivery_items")} in share row exclusive mode`.execute(db);
}

/** A row the backfill may queue: its place in the caller's list, its ordering key and its identity. */
export interface BackfillRowKey {
  readonly n: number;
  readonly orderingKey: string;
  /** The row's identity as capture stores it in the feed (its primary key columns). */
  readonly identity: Readonly<Record<string, unknown>>;
}

/** A delivery the stream made of one of the rows to this mapping, with the change it was made from. */
export interface StreamedDelivery {
  readonly n: number;
  readonly targetIndex: number;
  readonly connector: string;
  /** The transaction id as replication reports it (32 bits, no epoch). */
  readonly xid: number;
  readonly commitLsn: Lsn;
  readonly ordinal: number;
  /** The row after the change, as the feed stores it; null for a delete. */
  readonly after: Readonly<Record<string, unknown>> | null;
}

/**
 * Found through the ordering key (hash index, migration 000003), then narrowed to the row by its
 * identity, which the change's row (or, for a delete, its old row) contains.
 */
export async function streamedDeliveries(
  client: pg.ClientBase,
  schema: string,
  mapping: string,
  table: TableRef,
  rows: readonly BackfillRowKey[],
): Promise<StreamedDelivery[]> {
  const json = JSON.stringify(rows.map((r) => ({ n: r.n, ordering_key: r.orderingKey, identity: r.identity })));
  const result = await sql<{
    n: number;
    target_index: number;
    connector: string;
    xid: string;
    commit_lsn: string;
    ordinal: number;
    after: Record<string, unknown> | null;
  }>`
    select r.n, d.target_index, d.connector, f.xid::text, f.commit_lsn::text, f.ordinal,
            nullif(f.after::jsonb, 'null'::jsonb) as after
       from json_to_recordset(${json}::json) as r(n integer, ordering_key text, identity jsonb)
       join ${ledgerTable(schema, "delivery_items")} d
         on d.ordering_key = r.ordering_key and d.mapping = ${mapping} and d.commit_lsn is not null
       join ${ledgerTable(schema, "feed")} f on f.commit_lsn = d.commit_lsn and f.ordinal = d.ordinal
      where f.table_schema = ${table.schema} and f.table_name = ${table.name}
        and coalesce(nullif(f.after::jsonb, 'null'::jsonb), f.before::jsonb) @> r.identity`.execute(
    ledgerDb(client, schema),
  );
  return result.rows.map((r) => ({
    n: r.n,
    targetIndex: r.target_index,
    connector: r.connector,
    xid: Number(r.xid),
    commitLsn: parseLsn(r.commit_lsn),
    ordinal: r.ordinal,
    after: r.after,
  }));
}
