// Queues one batch of backfilled rows in the ledger, leaving out the states the stream already
// delivered, in a transaction that orders itself against capture's own inserts.
import type pg from "pg";
import type { TableRef } from "../change/change.js";
import { lockDeliveriesAgainstCapture, streamedDeliveries } from "../ledger/backfill-lookups.js";
import { insertDeliveries, type PlannedDelivery } from "../ledger/delivery-writer.js";
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
    await lockDeliveriesAgainstCapture(client, target.schema);
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
    // A state an earlier backfill queued has the same token: the ledger's unique key drops it.
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

/** The stream's deliveries of these rows to this mapping, by row and mapping target. */
async function streamedChanges(
  client: pg.ClientBase,
  target: BackfillTarget,
  candidates: readonly BackfillCandidate[],
): Promise<Map<string, StreamedChange[]>> {
  const found = await streamedDeliveries(
    client,
    target.schema,
    target.mapping,
    target.table,
    candidates.map((c, n) => ({ n, orderingKey: c.orderingKey, identity: c.identity })),
  );
  const byLane = new Map<string, StreamedChange[]>();
  for (const d of found) {
    const key = lane(d.n, d.targetIndex, d.connector);
    const list = byLane.get(key) ?? [];
    list.push(d);
    byLane.set(key, list);
  }
  return byLane;
}

function lane(row: number, targetIndex: number, connector: string): string {
  return `${row}\u0000${targetIndex}\u0000${connector}`;
}
