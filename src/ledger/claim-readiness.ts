// Whether a connector has a batch to claim now and, if not, when the next one falls due: one
// read-only statement, so a worker waiting for a partial batch's maxWait (or a retry's time)
// neither polls with the whole claim transaction nor oversleeps the moment it is due.
import { sql } from "kysely";
import { runProbe } from "./batch-claims.js";
import { ledgerDb, ledgerTable } from "./ledger-db.js";
import type { Queryable } from "./queryable.js";

export interface ClaimReadiness {
  /** Something may be claimed now: a due retry or takeover, a due delivery of its own, a full or waited run. */
  readonly due: boolean;
  /** When nothing is due: how long until the earliest known due time; null when nothing waits at all. */
  readonly dueInMs: number | null;
}

export interface ReadinessOptions {
  readonly connector: string;
  readonly maxRecords: number;
  readonly maxWaitMs: number;
}

interface ReadinessRow {
  /** Milliseconds until a batch's retry is due or a 'sending' batch's lease runs out (≤ 0: now). */
  batch_in_ms: number | null;
  /** Milliseconds until a delivery with a state of its own is due (≤ 0: now). */
  own_in_ms: number | null;
  /** Null when the connector has no unclaimed run. */
  run_count: number | null;
  run_oldest: Date | null;
  run_waited: boolean | null;
}

/**
 * Mirrors what BatchClaims.claim looks at, without locking or writing anything. An answer of
 * `due` is only a hint (the claim decides, under its lock); an answer of not due is safe to wait
 * on, since nothing can fall due before `dueInMs` unless new deliveries arrive (which wake the
 * worker) or another process changes the ledger (which the worker's poll interval bounds).
 */
export async function claimReadiness(
  queryable: Queryable,
  schema: string,
  options: ReadinessOptions,
): Promise<ClaimReadiness> {
  const batches = ledgerTable(schema, "batches");
  const items = ledgerTable(schema, "delivery_items");
  const connectors = ledgerTable(schema, "connectors");
  const result = await sql<ReadinessRow>`
    select
      (select extract(epoch from min(case when state = 'sending' then lease_until else next_attempt_at end) - now()) * 1000
         from ${batches} where connector = ${options.connector} and state in ('sending', 'retrying'))::float8 as batch_in_ms,
      (select extract(epoch from min(next_attempt_at) - now()) * 1000
         from ${items}
        where connector = ${options.connector} and own_state and state in ('pending', 'retrying') and batch_id is null)::float8
        as own_in_ms,
      run.n as run_count, run.oldest as run_oldest, run.waited as run_waited
    from (select 1) one
    left join (${runProbe(items, options, sql`coalesce((select claimed_through from ${connectors} where connector = ${options.connector}), 0)`)}) run
      on true`.execute(ledgerDb(queryable, schema));
  const row = result.rows[0];
  if (!row) return { due: true, dueInMs: 0 };
  const waits: number[] = [];
  if (row.batch_in_ms !== null) waits.push(row.batch_in_ms);
  if (row.own_in_ms !== null) waits.push(row.own_in_ms);
  if (row.run_waited || (row.run_count ?? 0) >= options.maxRecords) waits.push(0);
  else if (row.run_oldest !== null) {
    // The claim measures a run's wait (ClaimOptions.maxWaitMs) on this process's clock: so does this.
    waits.push(row.run_oldest.getTime() + options.maxWaitMs - Date.now());
  }
  if (waits.length === 0) return { due: false, dueInMs: null };
  const soonest = Math.min(...waits);
  return soonest <= 0 ? { due: true, dueInMs: 0 } : { due: false, dueInMs: soonest };
}
