// Read-only ledger queries behind /metrics and /readyz, cheap enough to run on every scrape.
import { sql } from "kysely";
import { ledgerDb, ledgerTable } from "./ledger-db.js";
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
  // A liveness ping of the connection, no statement of the schema: node-postgres directly.
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
  const items = ledgerTable(schema, "delivery_items");
  const batches = ledgerTable(schema, "batches");
  const connectors = ledgerTable(schema, "connectors");
  const states = [...DELIVERY_GAUGE_STATES];
  const result = await sql<{
    connector: string;
    counts: Record<string, string> | null;
    oldest_seconds: number | null;
    up: boolean;
  }>`
    with parts as (
       select connector, state, count(*) as n from ${items}
        where own_state and state = any(${states}::text[]) group by connector, state
       union all
       select connector, state, sum(item_count) from ${batches}
        where first_id is not null and state = any(${states}::text[]) group by connector, state
       union all
       select c.connector, 'pending', (select count(*) from ${items} i
                                        where i.connector = c.connector and not i.own_state
                                          and i.id > c.claimed_through)
         from ${connectors} c),
     counts as (
       select connector, jsonb_object_agg(state, n) as counts
         from (select connector, state, sum(n) as n from parts group by connector, state) per_state
        group by connector),
     names as (select connector from ${connectors} union select connector from counts)
     select n.connector, k.counts,
            extract(epoch from now() - least(
              (select d.created_at from ${items} d
                where d.connector = n.connector and d.own_state and d.state in ('pending', 'retrying')
                  and d.batch_id is null
                order by d.id limit 1),
              (select d.created_at from ${items} d
                where d.connector = n.connector and not d.own_state
                  and d.id > coalesce(c.claimed_through, 0)
                order by d.id limit 1),
              (select min(b.created_at) from ${batches} b
                where b.connector = n.connector and b.state in ('sending', 'retrying'))))::float8 as oldest_seconds,
            coalesce(c.online and c.attention is null, true) as up
       from names n
       left join counts k on k.connector = n.connector
       left join ${connectors} c on c.connector = n.connector`.execute(ledgerDb(db, schema));
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
  // order by the primary key (commit_lsn first) rather than max(commit_time), which has no index.
  const result = await sql<{ at: Date | null }>`
    select coalesce(
       (select commit_time from ${ledgerTable(schema, "feed")} order by commit_lsn desc, ordinal desc limit 1),
       (select updated_at from ${ledgerTable(schema, "checkpoints")} where slot = ${slot})) as at`.execute(
    ledgerDb(db, schema),
  );
  return result.rows[0]?.at ?? null;
}
