// How far the ledger is with a set of transactions: captured into the feed, and deliveries not yet sent.
import type pg from "pg";
import { quoteIdentifier } from "../sql/sql-identifier.js";

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
  const captured = await ledger.query<{ n: string }>(
    `select count(distinct xid) as n from ${quoteIdentifier(schema)}.feed where xid = any($1::bigint[])`,
    [xids],
  );
  return Number(captured.rows[0]?.n ?? 0);
}

/** Deliveries neither sent nor confirmed, oldest first. */
export async function openDeliveries(ledger: pg.ClientBase, schema: string): Promise<OpenDelivery[]> {
  const result = await ledger.query<{
    id: string;
    connector: string;
    ordering_key: string;
    state: string;
    attempts: number;
    last_error: string | null;
  }>(
    `select id, connector, ordering_key, state, attempts, last_error from ${quoteIdentifier(schema)}.deliveries
      where state not in ('sent', 'confirmed') order by id`,
  );
  return result.rows.map((r) => ({
    id: r.id,
    connector: r.connector,
    key: r.ordering_key,
    state: r.state,
    attempts: r.attempts,
    lastError: r.last_error,
  }));
}
