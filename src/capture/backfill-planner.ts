// Renders a backfilled row through its mapping's targets, with tokens derived from the row's state.
import { createHash } from "node:crypto";
import type { TableRef } from "../change/change.js";
import type { Row } from "../change/value.js";
import type { PlannedDelivery } from "../ledger/delivery-writer.js";
import { rowToJson } from "../ledger/value-json.js";
import type { CompiledMapping } from "../mapping/index.js";
import { renderDelivery } from "./render-delivery.js";

/** One snapshot row the mapping takes, with what the ledger needs to tell whether the stream already sent it. */
export interface BackfillCandidate {
  readonly orderingKey: string;
  /** The row's identity as capture stores it in the feed: its primary key columns (ledger JSON). */
  readonly identity: Readonly<Record<string, unknown>>;
  /** The whole row as capture stores it in the feed (ledger JSON). */
  readonly state: Readonly<Record<string, unknown>>;
  /** One per mapping target. */
  readonly deliveries: readonly PlannedDelivery[];
}

/**
 * A backfilled row is offered to the mapping as an insert (its `ops` must include insert, its
 * `where` applies, `_op` reads "insert"); null when the mapping does not take it.
 *
 * The token's change identity is "backfill:<ordering key>:<hash of the row>": backfilling the
 * same state again (a rerun after a crash, or later after the ledger pruned it) yields the same
 * token, which the ledger and any partner that remembers tokens drop; a changed row gets a new one.
 *
 * `identityColumns` are the table's primary key; for a table without one, the whole row is its
 * identity (no other column set is known to tell rows apart).
 */
export function planBackfillRow(
  mapping: CompiledMapping,
  table: TableRef,
  row: Row,
  snapshotTime: Date,
  identityColumns: readonly string[],
): BackfillCandidate | null {
  if (!mapping.matches({ op: "insert", table, row })) return null;
  const orderingKey = mapping.orderingKey(row);
  const stateText = rowToJson(row);
  const state = JSON.parse(stateText) as Record<string, unknown>;
  const identity =
    identityColumns.length > 0 ? Object.fromEntries(identityColumns.map((c) => [c, state[c] ?? null])) : state;
  const stateHash = createHash("sha256").update(stateText).digest("hex").slice(0, 32);
  const deliveries = mapping.targets.map(
    (target): PlannedDelivery =>
      renderDelivery(mapping, target, {
        identity: `backfill:${orderingKey}:${stateHash}`,
        row,
        op: "insert",
        orderingKey,
        // Not a captured change: nothing in the feed to point at.
        commitLsn: null,
        ordinal: null,
        commitTime: snapshotTime,
      }),
  );
  return { orderingKey, identity, state, deliveries };
}
