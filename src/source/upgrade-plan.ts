// The steps of a major PostgreSQL upgrade of the source for this server's version, given whether
// ESS has drained (nothing behind the slot, nothing waiting for delivery). Pure: the caller reads.

export interface DrainState {
  readonly lagBytes: number;
  /** Deliveries pending, sending or retrying. */
  readonly undelivered: number;
  readonly slotExists: boolean;
}

export interface UpgradePlan {
  readonly fromMajor: number;
  readonly toMajor: number;
  readonly drained: boolean;
  /** Why it is not drained yet (empty when drained). */
  readonly waitingFor: readonly string[];
  /** pg_upgrade keeps logical slots only from PostgreSQL 17 onwards. */
  readonly slotSurvives: boolean;
  readonly steps: readonly string[];
}

export function upgradePlan(
  options: { fromMajor: number; toMajor: number; slot: string; mappings: readonly string[]; caughtUpBytes: number },
  drain: DrainState,
): UpgradePlan {
  const { fromMajor, toMajor, slot } = options;
  const waitingFor: string[] = [];
  if (drain.slotExists && drain.lagBytes > options.caughtUpBytes) {
    waitingFor.push(`the slot ${slot} is ${drain.lagBytes} bytes behind the server: let essctl start capture it`);
  }
  if (drain.undelivered > 0) waitingFor.push(`${drain.undelivered} deliveries are pending, sending or retrying`);
  const slotSurvives = fromMajor >= 17 && toMajor > fromMajor;
  const each = options.mappings.length > 0 ? options.mappings.join(", ") : "<mapping>";
  const steps = [
    "stop the applications' writes to the mapped tables (or accept a backfill at the end)",
    "wait until `essctl upgrade-plan` says drained (lag 0, nothing pending), then stop every essctl start",
    ...(slotSurvives
      ? [
          `pg_upgrade from ${fromMajor} to ${toMajor} with wal_level = logical and max_replication_slots large enough on the new cluster: it carries the logical slot ${slot} over (pg_upgrade refuses while the slot has unconsumed WAL)`,
        ]
      : [
          `pg_upgrade from ${fromMajor} to ${toMajor}: before PostgreSQL 17 logical slots are not carried over, so the slot ${slot} is gone afterwards`,
          "on the new cluster: ALTER SYSTEM SET wal_level = logical; then restart it",
          "essctl publication sql | psql  -- publications are kept by pg_upgrade; this adds what is missing",
        ]),
    "essctl check  -- the new server against the configuration",
    `essctl start --accept-source-change  -- pg_upgrade makes a new cluster (a new system identifier); ESS refuses the old checkpoint until told${slotSurvives ? "" : " and creates a new slot"}`,
    slotSurvives
      ? `only if writes were not stopped: essctl backfill <mapping> for each mapping (${each})`
      : `if writes could not be stopped: essctl backfill <mapping> for each mapping (${each}); tokens make the resend of unchanged rows safe`,
  ];
  return { fromMajor, toMajor, drained: waitingFor.length === 0, waitingFor, slotSurvives, steps };
}
