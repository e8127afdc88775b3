// Queues one batch of backfilled rows in the ledger, leaving out the states the stream already
// delivered, in a transaction that orders itself against capture's own inserts.
import type pg from "pg";
import type { TableRef } from "../change/change.js";
import { parseLsn } from "../change/lsn.js";
import { insertDeliveries, type PlannedDelivery } from "../ledger/delivery-writer.js";
import { quoteIdentifier } from "../sql/sql-identifier.js";
import { type StreamedChange, snapshotStateIsDue, type XidSnapshot } from "./backfill-decision.js";
import type { BackfillCandidate } from "./backfill-planner.js";

export interface QueuedBatch {
  /** New deliveries waiting for their partner. */
  readonly queued: number;
  /** New dead letters (a row that cannot be rendered for a target). */
  readonly dead: number;
  /** Deliveries left out: the stream already delivered that state or a later one, or an earlier backfill queued it. */
  readonly skipped: number;
}

export interface BackfillTarget {
  readonly schema: string;
  readonly mapping: string;
  readonly table: TableRef;
  readonly snapshot: XidSnapshot;
}

interface StreamedRow {
  n: number;
  target_index: number;
  connector: string;
  xid: string;
  commit_lsn: string;
  ordinal: number;
  after: Record<string, unknown> | null;
}

/**
 * Called once capture has stored every change committed before the snapshot. The table lock
 * makes each inserted delivery come before any later change of its row: deliveries of a key go
 * out in id order, and a capture transaction inserting a change of the same row either committed
 * before the lookup below (and was seen) or waits for this transaction and takes higher ids.
 */
export async function queueBackfillBatch(
  client: pg.ClientBase,
  target: BackfillTarget,
  candidates: readonly BackfillCandidate[],
): Promise<QueuedBatch> {
  if (candidates.length === 0) return { queued: 0, dead: 0, skipped: 0 };
  await client.query("begin");
  try {
    // Held for one batch: capture and the workers wait a moment; readers (essctl, receipts) do not.
    await client.query("set local lock_timeout = '30s'");
    await client.query(`lock table ${quoteIdentifier(target.schema)}.delivery_items in share row exclusive mode`);
    const streamed = await streamedChanges(client, target, candidates);
    const fresh: PlannedDelivery[] = [];
    let planned = 0;
    candidates.forEach((candidate, row) => {
      for (const delivery of candidate.deliveries) {
        planned++;
        const changes = streamed.get(lane(row, delivery.targetIndex, delivery.connector)) ?? [];
        if (snapshotStateIsDue(candidate.state, changes, target.snapshot)) fresh.push(delivery);
      }
    });
    // A state an earlier backfill queued has the same token: the ledger's unique token drops it.
    const inserted = await insertDeliveries(client, target.schema, fresh);
    await client.query("commit");
    const dead = fresh.filter((d) => d.state === "dead").length;
    const repeated = fresh.length - inserted;
    return { queued: fresh.length - dead - repeated, dead, skipped: planned - fresh.length + repeated };
  } catch (error) {
    await client.query("rollback").catch(() => undefined);
    throw error;
  }
}

/**
 * The stream's deliveries of these rows to this mapping, with the change each was made from.
 * Found through the ordering key (hash index, migration 000003), then narrowed to the row by
 * its identity, which the change's row (or, for a delete, its old row) contains.
 */
async function streamedChanges(
  client: pg.ClientBase,
  target: BackfillTarget,
  candidates: readonly BackfillCandidate[],
): Promise<Map<string, StreamedChange[]>> {
  const s = quoteIdentifier(target.schema);
  const rows = JSON.stringify(candidates.map((c, i) => ({ n: i, ordering_key: c.orderingKey, identity: c.identity })));
  const result = await client.query<StreamedRow>(
    `select r.n, d.target_index, d.connector, f.xid::text, f.commit_lsn::text, f.ordinal,
            nullif(f.after::jsonb, 'null'::jsonb) as after
       from json_to_recordset($2::json) as r(n integer, ordering_key text, identity jsonb)
       join ${s}.delivery_items d on d.ordering_key = r.ordering_key and d.mapping = $1 and d.commit_lsn is not null
       join ${s}.feed f on f.commit_lsn = d.commit_lsn and f.ordinal = d.ordinal
      where f.table_schema = $3 and f.table_name = $4
        and coalesce(nullif(f.after::jsonb, 'null'::jsonb), f.before::jsonb) @> r.identity`,
    [target.mapping, rows, target.table.schema, target.table.name],
  );
  const byLane = new Map<string, StreamedChange[]>();
  for (const r of result.rows) {
    const key = lane(r.n, r.target_index, r.connector);
    const list = byLane.get(key) ?? [];
    list.push({ xid: Number(r.xid), commitLsn: parseLsn(r.commit_lsn), ordinal: r.ordinal, after: r.after });
    byLane.set(key, list);
  }
  return byLane;
}

function lane(row: number, targetIndex: number, connector: string): string {
  return `${row}\u0000${targetIndex}\u0000${connector}`;
}
