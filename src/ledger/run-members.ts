// A batch covering a run counts the members that still follow it (deliveries without a state of
// their own): kept right when some leave it (replayed, confirmed), for the backlog gauges.
import { sql } from "kysely";
import type pg from "pg";
import { ledgerDb } from "./ledger-db.js";

export async function recountRuns(client: pg.ClientBase, schema: string, batchIds: readonly string[]): Promise<void> {
  if (batchIds.length === 0) return;
  await ledgerDb(client, schema)
    .updateTable("batches as b")
    .set((eb) => ({
      item_count: eb
        .selectFrom("delivery_items as i")
        .select(sql<number>`count(*)`.as("n"))
        .whereRef("i.connector", "=", "b.connector")
        .where(sql<boolean>`i.id between b.first_id and b.last_id and not i.own_state`),
    }))
    .where(sql<boolean>`b.id = any(${batchIds}::bigint[])`)
    .where("b.first_id", "is not", null)
    .execute();
}
