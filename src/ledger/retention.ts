// Prunes what retention allows, in small batches so no long lock stalls capture or delivery:
// sent/confirmed deliveries and their feed rows and batches after `deliveredMs`, audit rows after
// `auditMs`. Dead letters and anything not yet delivered are never pruned. A sent batch's run is
// deleted through the claim index, a range at a time; deliveries with a state of their own
// through the partial index of finished ones. Partners' answers (inbound events) go after
// `deliveredMs` like the deliveries they answer, so replayed or unsolicited callbacks cannot fill the ledger.

import { quoteIdentifier } from "../sql/sql-identifier.js";
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
  inbound: number;
}

export async function pruneLedger(db: Queryable, schema: string, policy: RetentionPolicy): Promise<PruneReport> {
  const s = quoteIdentifier(schema);
  const size = policy.batchSize ?? 1000;
  const report: PruneReport = { deliveries: 0, feed: 0, batches: 0, audit: 0, inbound: 0 };
  const delivered = `${Math.max(0, Math.floor(policy.deliveredMs))} * interval '1 millisecond'`;
  const audit = `${Math.max(0, Math.floor(policy.auditMs))} * interval '1 millisecond'`;
  report.deliveries = await repeat(
    db,
    size,
    `
    delete from ${s}.delivery_items where id in (
      select i.id from ${s}.batches b
        join ${s}.delivery_items i
          on i.connector = b.connector and i.id between b.first_id and b.last_id and not i.own_state
       where b.state = 'sent' and b.first_id is not null and b.updated_at < now() - ${delivered}
       limit $1 for update of i skip locked)`,
  );
  report.deliveries += await repeat(
    db,
    size,
    `
    delete from ${s}.delivery_items where id in (
      select id from ${s}.delivery_items
       where own_state and state in ('sent', 'confirmed') and updated_at < now() - ${delivered}
       limit $1 for update skip locked)`,
  );
  // A feed row goes once no delivery of it remains (its deliveries were sent and pruned, or
  // no mapping wanted it); a change that still has a pending, retrying or dead delivery stays.
  report.feed = await repeat(
    db,
    size,
    `
    delete from ${s}.feed where (commit_lsn, ordinal) in (
      select f.commit_lsn, f.ordinal from ${s}.feed f
       where f.captured_at < now() - ${delivered}
         and not exists (select 1 from ${s}.delivery_items d where d.commit_lsn = f.commit_lsn and d.ordinal = f.ordinal)
       limit $1 for update skip locked)`,
  );
  report.batches = await repeat(
    db,
    size,
    `
    delete from ${s}.batches where id in (
      select b.id from ${s}.batches b
       where b.state = 'sent' and b.updated_at < now() - ${delivered}
         and not exists (select 1 from ${s}.delivery_items d where d.own_state and d.batch_id = b.id)
         and (b.first_id is null or not exists (
               select 1 from ${s}.delivery_items d
                where d.connector = b.connector and d.id between b.first_id and b.last_id and not d.own_state))
       limit $1 for update skip locked)`,
  );
  report.audit = await repeat(
    db,
    size,
    `
    delete from ${s}.audit where id in (
      select id from ${s}.audit where at < now() - ${audit} order by id limit $1)`,
  );
  // Ids grow with received_at: the oldest answers are first in the primary key's order.
  report.inbound = await repeat(
    db,
    size,
    `
    delete from ${s}.inbound_events where id in (
      select id from ${s}.inbound_events where received_at < now() - ${delivered} order by id limit $1)`,
  );
  return report;
}

async function repeat(db: Queryable, size: number, sql: string): Promise<number> {
  let total = 0;
  for (;;) {
    const result = await db.query(sql, [size]);
    const n = result.rowCount ?? 0;
    total += n;
    if (n < size) return total;
    // Let capture and delivery in between the batches.
    await new Promise((resolve) => setImmediate(resolve));
  }
}
