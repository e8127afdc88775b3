// Prunes what retention allows, in small batches so no long lock stalls capture or delivery:
// sent/confirmed deliveries and their feed rows and batches after `deliveredMs`, audit rows after
// `auditMs`. Dead letters and anything not yet delivered are never pruned. A sent batch's run is
// deleted through the claim index, a range at a time; deliveries with a state of their own
// through the partial index of finished ones.
import { type RawBuilder, sql } from "kysely";
import { affectedRows, type LedgerDb, ledgerDb, ledgerTable } from "./ledger-db.js";
import type { Queryable } from "./queryable.js";

export interface RetentionPolicy {
  readonly deliveredMs: number;
  readonly auditMs: number;
  /** Rows per delete statement. */
  readonly batchSize?: number;
}

export interface PruneReport {
  deliveries: number;
  feed: number;
  batches: number;
  audit: number;
}

export async function pruneLedger(db: Queryable, schema: string, policy: RetentionPolicy): Promise<PruneReport> {
  const ledger = ledgerDb(db, schema);
  const items = ledgerTable(schema, "delivery_items");
  const batches = ledgerTable(schema, "batches");
  const feed = ledgerTable(schema, "feed");
  const size = policy.batchSize ?? 1000;
  const report: PruneReport = { deliveries: 0, feed: 0, batches: 0, audit: 0 };
  const delivered = sql`${sql.lit(Math.max(0, Math.floor(policy.deliveredMs)))} * interval '1 millisecond'`;
  const audit = sql`${sql.lit(Math.max(0, Math.floor(policy.auditMs)))} * interval '1 millisecond'`;
  report.deliveries = await repeat(
    ledger,
    sql`
    delete from ${items} where id in (
      select i.id from ${batches} b
        join ${items} i
          on i.connector = b.connector and i.id between b.first_id and b.last_id and not i.own_state
       where b.state = 'sent' and b.first_id is not null and b.updated_at < now() - ${delivered}
       limit ${size} for update of i skip locked)`,
    size,
  );
  report.deliveries += await repeat(
    ledger,
    sql`
    delete from ${items} where id in (
      select id from ${items}
       where own_state and state in ('sent', 'confirmed') and updated_at < now() - ${delivered}
       limit ${size} for update skip locked)`,
    size,
  );
  // A feed row goes once no delivery of it remains (its deliveries were sent and pruned, or
  // no mapping wanted it); a change that still has a pending, retrying or dead delivery stays.
  report.feed = await repeat(
    ledger,
    sql`
    delete from ${feed} where (commit_lsn, ordinal) in (
      select f.commit_lsn, f.ordinal from ${feed} f
       where f.captured_at < now() - ${delivered}
         and not exists (select 1 from ${items} d where d.commit_lsn = f.commit_lsn and d.ordinal = f.ordinal)
       limit ${size} for update skip locked)`,
    size,
  );
  report.batches = await repeat(
    ledger,
    sql`
    delete from ${batches} where id in (
      select b.id from ${batches} b
       where b.state = 'sent' and b.updated_at < now() - ${delivered}
         and not exists (select 1 from ${items} d where d.own_state and d.batch_id = b.id)
         and (b.first_id is null or not exists (
               select 1 from ${items} d
                where d.connector = b.connector and d.id between b.first_id and b.last_id and not d.own_state))
       limit ${size} for update skip locked)`,
    size,
  );
  report.audit = await repeat(
    ledger,
    sql`
    delete from ${ledgerTable(schema, "audit")} where id in (
      select id from ${ledgerTable(schema, "audit")} where at < now() - ${audit} order by id limit ${size})`,
    size,
  );
  return report;
}

/** Runs a delete of at most `size` rows until one deletes fewer. */
async function repeat(ledger: LedgerDb, statement: RawBuilder<unknown>, size: number): Promise<number> {
  let total = 0;
  for (;;) {
    const n = affectedRows(await statement.execute(ledger));
    total += n;
    if (n < size) return total;
    // Let capture and delivery in between the batches.
    await new Promise((resolve) => setImmediate(resolve));
  }
}
