// The stall rule: a slot whose confirmed position stays put for stallAfter while the server's WAL grows.

/** One reading of the slot, as the server reports it. */
export interface SlotSample {
  /** Milliseconds since the epoch. */
  readonly at: number;
  /** The slot's confirmed_flush_lsn; null when the slot does not exist. */
  readonly confirmedLsn: bigint | null;
  /** pg_current_wal_lsn() at the same moment. */
  readonly currentLsn: bigint;
}

/** Where the confirmed position was first seen, and how far the server's WAL was then. */
export interface StallTracker {
  readonly confirmedLsn: bigint | null;
  readonly since: number;
  readonly currentLsnSince: bigint;
}

export interface StallVerdict {
  readonly stalled: boolean;
  /** How long the confirmed position has not moved. */
  readonly unchangedForMs: number;
  /** WAL the server wrote while the confirmed position stood still. */
  readonly walGrowthBytes: bigint;
  readonly tracker: StallTracker;
}

/**
 * Feeds one sample to the tracker. An idle database is no stall (nothing to confirm: the WAL
 * did not grow), and neither is a missing slot (capture creates it; readiness reports it).
 */
export function trackStall(previous: StallTracker | undefined, sample: SlotSample, stallAfterMs: number): StallVerdict {
  if (!previous || previous.confirmedLsn !== sample.confirmedLsn || sample.currentLsn < previous.currentLsnSince) {
    const tracker = { confirmedLsn: sample.confirmedLsn, since: sample.at, currentLsnSince: sample.currentLsn };
    return { stalled: false, unchangedForMs: 0, walGrowthBytes: 0n, tracker };
  }
  const unchangedForMs = Math.max(0, sample.at - previous.since);
  const walGrowthBytes = sample.currentLsn - previous.currentLsnSince;
  const behind = sample.confirmedLsn !== null && sample.currentLsn > sample.confirmedLsn;
  return {
    stalled: behind && walGrowthBytes > 0n && unchangedForMs >= stallAfterMs,
    unchangedForMs,
    walGrowthBytes,
    tracker: previous,
  };
}
