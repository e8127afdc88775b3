// How far the ledger is with a set of transactions: captured into the feed, and deliveries not yet sent.
import { sql } from "kysely";
import type pg from "pg";
import { ledgerDb } from "./ledger-db.js";

export interface OpenDelivery {
  readonly id: string;
  readonly connector: string;
  readonly key: string;
  readonly state: string;
  readonly attempts: number;
  readonly lastError: string | null;
}

/** How many of the transactions `xids` have a change in the feed. */
export async function countCapturedTransactions(
  ledger: pg.ClientBase,
  schema: string,
  xids: readonly string[],
): Promise<number> {
  const captured = await ledgerDb(ledger, schema)
    .selectFrom("feed")
    .select(sql<string>`count(distinct xid)`.as("n"))
    .where(sql<boolean>`xid = any(${xids}::bigint[])`)
    .executeTakeFirst();
  return Number(captured?.n ?? 0);
}

/** Deliveries neither sent nor confirmed, oldest first. */
export async function openDeliveries(ledger: pg.ClientBase, schema: string): Promise<OpenDelivery[]> {
  const rows = await ledgerDb(ledger, schema)
    .selectFrom("deliveries")
    .select(["id", "connector", "ordering_key", "state", "attempts", "last_error"])
    .where("state", "not in", ["sent", "confirmed"])
    .orderBy("id")
    .execute();
  return rows.map((r) => ({
    id: r.id,
    connector: r.connector,
    key: r.ordering_key,
    state: r.state,
    attempts: r.attempts,
    lastError: r.last_error,
  }));
}
