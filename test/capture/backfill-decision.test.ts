// Which snapshot rows a backfill still sends: the stream's deliveries of the row decide, seen through the snapshot.
import { describe, expect, it } from "vitest";
import {
  type StreamedChange,
  sameRowState,
  snapshotStateIsDue,
  XidSnapshot,
} from "../../src/capture/backfill-decision.js";

describe("XidSnapshot", () => {
  const snapshot = XidSnapshot.parse("100:105:100,103");
  it.each([
    [99, true, "committed before every running transaction"],
    [100, false, "still running when the snapshot was taken"],
    [102, true, "committed between xmin and xmax"],
    [103, false, "running, between xmin and xmax"],
    [105, false, "started after the snapshot"],
    [4000, false, "far in the future"],
  ])("xid %i: seen %s (%s)", (xid, seen) => {
    expect(snapshot.sees(xid)).toBe(seen);
  });

  it("widens replication's 32-bit ids around the snapshot's epoch", () => {
    const epoch = 1n << 32n;
    const late = XidSnapshot.parse(`${epoch + 10n}:${epoch + 20n}:`);
    expect(late.sees(15)).toBe(true);
    expect(late.sees(25)).toBe(false);
    // From the epoch before: long committed.
    expect(late.sees(0xfffffff0)).toBe(true);
    const early = XidSnapshot.parse(`${epoch - 20n}:${epoch - 10n}:`);
    // From the next epoch: after the snapshot.
    expect(early.sees(5)).toBe(false);
    expect(early.sees(0xffffffe0)).toBe(true);
  });

  it("refuses text that is not a snapshot", () => {
    expect(() => XidSnapshot.parse("100:105")).toThrow(RangeError);
  });
});

describe("snapshotStateIsDue", () => {
  const snapshot = XidSnapshot.parse("100:105:103");
  const state = { id: "BP-1", status: "APPROVED", amount: "10.00" };
  const change = (xid: number, commitLsn: bigint, after: Record<string, unknown> | null): StreamedChange => ({
    xid,
    commitLsn,
    ordinal: 0,
    after,
  });

  it("sends a row the stream never delivered", () => {
    expect(snapshotStateIsDue(state, [], snapshot)).toBe(true);
  });

  it("leaves out a state the stream delivered before the snapshot", () => {
    expect(
      snapshotStateIsDue(state, [change(90, 10n, { ...state, status: "PENDING" }), change(95, 20n, state)], snapshot),
    ).toBe(false);
  });

  it("takes the latest delivered change by commit position, not by the order the ledger returned them", () => {
    const older = change(95, 20n, { ...state, status: "PENDING" });
    const latest = change(90, 30n, state);
    expect(snapshotStateIsDue(state, [latest, older], snapshot)).toBe(false);
    expect(snapshotStateIsDue(state, [{ ...older, commitLsn: 30n, ordinal: 1 }, latest], snapshot)).toBe(true);
  });

  it("leaves out a row whose later state the stream already delivered (it must not be followed by the older one)", () => {
    expect(
      snapshotStateIsDue(state, [change(95, 20n, state), change(103, 40n, { ...state, status: "DENIED" })], snapshot),
    ).toBe(false);
    expect(snapshotStateIsDue(state, [change(200, 50n, null)], snapshot)).toBe(false);
  });

  it("sends a row whose last delivered state is not the snapshot's (changes the stream never carried)", () => {
    expect(snapshotStateIsDue(state, [change(50, 5n, { ...state, status: "PENDING" })], snapshot)).toBe(true);
    // Deleted, then inserted again without a delivery: the delete is not the row's state.
    expect(snapshotStateIsDue(state, [change(50, 5n, null)], snapshot)).toBe(true);
  });
});

describe("sameRowState", () => {
  it.each([
    ["the same values", { a: 1, b: "x" }, { a: 1, b: "x" }, true],
    ["an unchanged TOAST value counts as equal", { a: 1, big: { $toast: "unchanged" } }, { a: 1, big: "…" }, true],
    [
      "jsonb reorders keys of a json column",
      { doc: { y: 2, x: [1, { q: null }] } },
      { doc: { x: [1, { q: null }], y: 2 } },
      true,
    ],
    ["a different value", { a: 1, b: "x" }, { a: 1, b: "y" }, false],
    ["a column more", { a: 1, b: "x", c: null }, { a: 1, b: "x" }, false],
    ["a column fewer", { a: 1 }, { a: 1, b: "x" }, false],
    ["another column of the same count", { a: 1, c: "x" }, { a: 1, b: "x" }, false],
    ["an array against an object", { a: [] }, { a: {} }, false],
  ])("%s", (_name, after, state, same) => {
    expect(sameRowState(after as Record<string, unknown>, state as Record<string, unknown>)).toBe(same);
  });

  it("a delete leaves no state", () => {
    expect(sameRowState(null, { a: 1 })).toBe(false);
  });
});
