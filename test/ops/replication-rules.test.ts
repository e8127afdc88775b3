import { describe, expect, it } from "vitest";
import { CAUGHT_UP_BYTES, replicationLagSeconds } from "../../src/ops/replication-lag.js";
import { type SlotSample, type StallTracker, trackStall } from "../../src/ops/stall-rule.js";

const STALL_AFTER = 10_000;

/** Feeds samples in order and returns the verdict of each. */
function run(samples: readonly SlotSample[]): boolean[] {
  let tracker: StallTracker | undefined;
  return samples.map((sample) => {
    const verdict = trackStall(tracker, sample, STALL_AFTER);
    tracker = verdict.tracker;
    return verdict.stalled;
  });
}

const at = (seconds: number, confirmed: bigint | null, current: bigint): SlotSample => ({
  at: seconds * 1000,
  confirmedLsn: confirmed,
  currentLsn: current,
});

describe("the stall rule", () => {
  it.each([
    {
      name: "a slot that confirms as the WAL grows never stalls",
      samples: [at(0, 100n, 200n), at(6, 300n, 400n), at(12, 500n, 600n), at(30, 700n, 800n)],
      expected: [false, false, false, false],
    },
    {
      name: "a confirmed position stuck for stallAfter while the WAL grew is a stall",
      samples: [at(0, 100n, 200n), at(6, 100n, 300n), at(10, 100n, 400n), at(20, 100n, 500n)],
      expected: [false, false, true, true],
    },
    {
      name: "an idle server (no WAL written) is no stall, however long",
      samples: [at(0, 100n, 150n), at(30, 100n, 150n), at(600, 100n, 150n)],
      expected: [false, false, false],
    },
    {
      name: "a slot that is level with the server is no stall even if the WAL grew before",
      samples: [at(0, 100n, 100n), at(30, 100n, 100n)],
      expected: [false, false],
    },
    {
      name: "the stall ends as soon as the confirmed position moves",
      samples: [at(0, 100n, 200n), at(11, 100n, 300n), at(12, 350n, 360n), at(13, 350n, 370n)],
      expected: [false, true, false, false],
    },
    {
      name: "a missing slot is not a stall (capture creates it; readiness reports it)",
      samples: [at(0, null, 200n), at(30, null, 900n)],
      expected: [false, false],
    },
  ])("$name", ({ samples, expected }) => {
    expect(run(samples)).toEqual(expected);
  });

  it("reports how long the position stood and how much WAL the server wrote meanwhile", () => {
    const first = trackStall(undefined, at(0, 100n, 200n), STALL_AFTER);
    const later = trackStall(first.tracker, at(15, 100n, 4200n), STALL_AFTER);
    expect(later).toMatchObject({ stalled: true, unchangedForMs: 15_000, walGrowthBytes: 4000n });
  });
});

describe("replication lag in seconds", () => {
  const now = Date.parse("2024-05-04T12:00:00Z");
  it.each([
    {
      name: "zero when caught up",
      lagBytes: CAUGHT_UP_BYTES,
      lastCommit: now - 60_000,
      caughtUp: undefined,
      seconds: 0,
    },
    {
      name: "the age of the last stored commit while behind",
      lagBytes: 10e6,
      lastCommit: now - 42_000,
      caughtUp: undefined,
      seconds: 42,
    },
    {
      name: "bounded by the last caught-up moment",
      lagBytes: 10e6,
      lastCommit: now - 3_600_000,
      caughtUp: now - 5_000,
      seconds: 5,
    },
    { name: "zero when nothing is known yet", lagBytes: 10e6, lastCommit: undefined, caughtUp: undefined, seconds: 0 },
    { name: "never negative (clock skew)", lagBytes: 10e6, lastCommit: now + 2_000, caughtUp: undefined, seconds: 0 },
  ])("$name", ({ lagBytes, lastCommit, caughtUp, seconds }) => {
    expect(
      replicationLagSeconds({
        lagBytes,
        lastCommit: lastCommit === undefined ? undefined : new Date(lastCommit),
        lastCaughtUpAt: caughtUp,
        now,
      }),
    ).toBe(seconds);
  });
});
