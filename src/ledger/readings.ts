// Read-only ledger queries behind /metrics and /readyz, cheap enough to run on every scrape.

import { quoteIdentifier } from "../sql/sql-identifier.js";
import type { Queryable } from "./queryable.js";

/** The unfinished delivery states that /metrics counts per connector. */
export const DELIVERY_GAUGE_STATES = ["pending", "sending", "retrying", "dead"] as const;
export type DeliveryGaugeState = (typeof DELIVERY_GAUGE_STATES)[number];

/** Per-connector ledger counts that the gauges mirror. */
export interface ConnectorGaugeValues {
  readonly connector: string;
  readonly deliveries: Readonly<Record<DeliveryGaugeState, number>>;
  /** Age of the oldest delivery not yet sent (0 when nothing waits). */
  readonly oldestWaitingSeconds: number;
  /** Heartbeat state: reachable (and not held for attention). */
  readonly up: boolean;
}

/** Resolves when the ledger answers a query. */
export async function pingLedger(db: Queryable): Promise<void> {
  await db.query("select 1");
}

/**
 * Per connector: deliveries in each unfinished state (pending, sending, retrying, dead), the age
 * of the oldest one not yet sent, and the heartbeat state. Sent and confirmed rows are never
 * read, so the cost follows the backlog, not how many delivered rows retention keeps: new
 * deliveries are counted past the connector's claim cursor, runs on their way or dead by their
 * batch's member count, and deliveries with a state of their own from their partial index.
 */
export async function readConnectorGauges(db: Queryable, schema: string): Promise<ConnectorGaugeValues[]> {
  const s = quoteIdentifier(schema);
  const result = await db.query<{
    connector: string;
    counts: Record<string, string> | null;
    oldest_seconds: number | null;
    up: boolean;
  }>(
    `with parts as (
       select connector, state, count(*) as n from ${s}.delivery_items
        where own_state and state = any($1::text[]) group by connector, state
       union all
       select connector, state, sum(item_count) from ${s}.batches
        where first_id is not null and state = any($1::text[]) group by connector, state
       union all
       select c.connector, 'pending', (select count(*) from ${s}.delivery_items i
                                        where i.connector = c.connector and not i.own_state
                                          and i.id > c.claimed_through)
         from ${s}.connectors c),
     counts as (
       select connector, jsonb_object_agg(state, n) as counts
         from (select connector, state, sum(n) as n from parts group by connector, state) per_state
        group by connector),
     names as (select connector from ${s}.connectors union select connector from counts)
     select n.connector, k.counts,
            extract(epoch from now() - least(
              (select d.created_at from ${s}.delivery_items d
                where d.connector = n.connector and d.own_state and d.state in ('pending', 'retrying')
                  and d.batch_id is null
                order by d.id limit 1),
              (select d.created_at from ${s}.delivery_items d
                where d.connector = n.connector and not d.own_state
                  and d.id > coalesce(c.claimed_through, 0)
                order by d.id limit 1),
              (select min(b.created_at) from ${s}.batches b
                where b.connector = n.connector and b.state in ('sending', 'retrying'))))::float8 as oldest_seconds,
            coalesce(c.online and c.attention is null, true) as up
       from names n
       left join counts k on k.connector = n.connector
       left join ${s}.connectors c on c.connector = n.connector`,
    [DELIVERY_GAUGE_STATES],
  );
  return result.rows.map((r) => {
    const deliveries = Object.fromEntries(
      DELIVERY_GAUGE_STATES.map((state) => [state, Number(r.counts?.[state] ?? 0)]),
    ) as Record<DeliveryGaugeState, number>;
    return {
      connector: r.connector,
      deliveries,
      oldestWaitingSeconds: Math.max(0, r.oldest_seconds ?? 0),
      up: r.up,
    };
  });
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
