// Decides, for one row and one mapping target, whether the snapshot's state must still be sent or
// the stream has already delivered it or a later state (pure: the ledger query feeds it).
import type { StreamedDelivery } from "../ledger/backfill-lookups.js";

/** A change of the row that the stream delivered to this mapping target (as the ledger reads it). */
export type StreamedChange = Pick<StreamedDelivery, "xid" | "commitLsn" | "ordinal" | "after">;

/**
 * The snapshot's state is due unless:
 * - the stream delivered a change the snapshot does not see: a newer state is already queued,
 *   and the older one must not follow it; or
 * - the latest change the snapshot sees and the stream delivered left the row in exactly the
 *   snapshot's state: sending it again would deliver one state under two tokens.
 * A row whose last delivered state differs from the snapshot (its later changes were never
 * captured: a slot that was dropped and created again) is due: that is what a backfill repairs.
 */
export function snapshotStateIsDue(
  state: Readonly<Record<string, unknown>>,
  streamed: readonly StreamedChange[],
  snapshot: XidSnapshot,
): boolean {
  let latest: StreamedChange | undefined;
  for (const change of streamed) {
    if (!snapshot.sees(change.xid)) return false;
    if (
      !latest ||
      change.commitLsn > latest.commitLsn ||
      (change.commitLsn === latest.commitLsn && change.ordinal > latest.ordinal)
    ) {
      latest = change;
    }
  }
  return latest === undefined || !sameRowState(latest.after, state);
}

const UNCHANGED_TOAST = "unchanged";

/**
 * Same columns, same values; a column the change did not carry because it was an unchanged
 * TOASTed value (marked {"$toast":"unchanged"}) is taken as equal.
 */
export function sameRowState(
  after: Readonly<Record<string, unknown>> | null,
  state: Readonly<Record<string, unknown>>,
): boolean {
  if (after === null) return false;
  const columns = Object.keys(state);
  if (Object.keys(after).length !== columns.length) return false;
  for (const column of columns) {
    if (!Object.hasOwn(after, column)) return false;
    const value = after[column];
    if (isUnchangedToast(value)) continue;
    if (!sameJson(value, state[column])) return false;
  }
  return true;
}

function isUnchangedToast(value: unknown): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    Object.keys(value).length === 1 &&
    (value as { $toast?: unknown }).$toast === UNCHANGED_TOAST
  );
}

/** JSON equality where object key order does not matter (jsonb reorders keys). */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => sameJson(item, b[i]));
  }
  const ak = Object.keys(a);
  const bk = Object.keys(b);
  if (ak.length !== bk.length) return false;
  return ak.every(
    (k) => Object.hasOwn(b, k) && sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
  );
}

/**
 * A PostgreSQL snapshot (pg_current_snapshot(): 'xmin:xmax:xip,…', 64-bit ids), answering
 * whether it sees the transaction of a captured change.
 */
export class XidSnapshot {
  private constructor(
    readonly xmin: bigint,
    readonly xmax: bigint,
    private readonly inProgress: ReadonlySet<bigint>,
  ) {}

  static parse(text: string): XidSnapshot {
    const match = /^(\d+):(\d+):([\d,]*)$/.exec(text.trim());
    if (!match?.[1] || !match[2]) throw new RangeError(`not a pg_snapshot: ${JSON.stringify(text)}`);
    const xip = (match[3] ?? "").split(",").filter((x) => x.length > 0);
    return new XidSnapshot(BigInt(match[1]), BigInt(match[2]), new Set(xip.map((x) => BigInt(x))));
  }

  /**
   * Replication reports 32-bit ids; the full id is the one within 2^31 of the snapshot's xmax
   * (the server never lets live ids be further apart), which is how PostgreSQL widens them too.
   */
  sees(xid: number): boolean {
    const epoch = this.xmax >> 32n;
    let full = (epoch << 32n) | BigInt(xid >>> 0);
    if (full > this.xmax && full - this.xmax > 0x7fffffffn) full -= 1n << 32n;
    else if (this.xmax > full && this.xmax - full > 0x80000000n) full += 1n << 32n;
    if (full < this.xmin) return true;
    if (full >= this.xmax) return false;
    return !this.inProgress.has(full);
  }
}
