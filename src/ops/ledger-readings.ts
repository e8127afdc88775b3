// Read-only ledger queries behind /metrics and /readyz, cheap enough to run on every scrape.

import type { Queryable } from "../ledger/queryable.js";
import { quoteIdentifier } from "../ledger/sql-identifier.js";
import type { ConnectorGaugeValues } from "./metrics.js";

/** Resolves when the ledger answers a query. */
export async function pingLedger(db: Queryable): Promise<void> {
  await db.query("select 1");
}

/**
 * Retrying and dead counts per connector. Only those two states are counted, so the
 * (connector, state) index answers it however many delivered rows retention still keeps.
 */
export async function readConnectorGauges(db: Queryable, schema: string): Promise<ConnectorGaugeValues[]> {
  const s = quoteIdentifier(schema);
  const result = await db.query<{ connector: string; retrying: string; dead: string; up: boolean }>(
    `with counts as (
       select connector,
              count(*) filter (where state = 'retrying') as retrying,
              count(*) filter (where state = 'dead') as dead
         from ${s}.deliveries where state in ('retrying', 'dead') group by connector)
     select coalesce(c.connector, k.connector) as connector,
            coalesce(k.retrying, 0) as retrying, coalesce(k.dead, 0) as dead,
            coalesce(c.online and c.attention is null, true) as up
       from ${s}.connectors c full join counts k on k.connector = c.connector`,
  );
  return result.rows.map((r) => ({
    connector: r.connector,
    retrying: Number(r.retrying),
    dead: Number(r.dead),
    up: r.up,
  }));
}

/**
 * Commit time of the newest change in the ledger's feed, or, when retention has emptied the
 * feed, when the slot's checkpoint last moved: the age of what ESS last stored.
 */
export async function lastCapturedCommit(db: Queryable, schema: string, slot: string): Promise<Date | null> {
  const s = quoteIdentifier(schema);
  // order by the primary key (commit_lsn first) rather than max(commit_time), which has no index.
  const result = await db.query<{ at: Date | null }>(
    `select coalesce(
       (select commit_time from ${s}.feed order by commit_lsn desc, ordinal desc limit 1),
       (select updated_at from ${s}.checkpoints where slot = $1)) as at`,
    [slot],
  );
  return result.rows[0]?.at ?? null;
}
