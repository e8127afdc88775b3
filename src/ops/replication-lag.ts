// Replication lag in seconds, from lag in bytes and what ESS knows about the commits it captured.

/**
 * Below this many bytes behind pg_current_wal_lsn() the slot counts as caught up: the rest is
 * our own heartbeats and WAL written since the last standby status update (sent every second).
 */
export const CAUGHT_UP_BYTES = 64 * 1024;

export interface LagInputs {
  readonly lagBytes: number;
  /** Commit time of the newest change ESS has stored (this process, or the ledger's feed). */
  readonly lastCommit: Date | null | undefined;
  /** When this process last saw the slot caught up. */
  readonly lastCaughtUpAt: number | undefined;
  readonly now: number;
}

/**
 * The age of the oldest change not yet captured, bounded from above: changes arrive in commit
 * order, so it committed after both the newest stored commit and the last caught-up moment.
 * Zero when caught up; zero as well when neither bound is known (nothing captured yet).
 */
export function replicationLagSeconds(inputs: LagInputs): number {
  if (inputs.lagBytes <= CAUGHT_UP_BYTES) return 0;
  const bounds: number[] = [];
  if (inputs.lastCommit) bounds.push(inputs.now - inputs.lastCommit.getTime());
  if (inputs.lastCaughtUpAt !== undefined) bounds.push(inputs.now - inputs.lastCaughtUpAt);
  if (bounds.length === 0) return 0;
  return Math.max(0, Math.min(...bounds)) / 1000;
}
