// A batch covering a run counts the members that still follow it (deliveries without a state of
// their own): kept right when some leave it (replayed, confirmed), for the backlog gauges.
import type pg from "pg";
import { quoteIdentifier } from "../sql/sql-identifier.js";

export async function recountRuns(client: pg.ClientBase, schema: string, batchIds: readonly string[]): Promise<void> {
  if (batchIds.length === 0) return;
  const s = quoteIdentifier(schema);
  await client.query(
    `update ${s}.batches b
        set item_count = (select count(*) from ${s}.delivery_items i
                           where i.connector = b.connector and i.id between b.first_id and b.last_id
                             and not i.own_state)
      where b.id = any($1::bigint[]) and b.first_id is not null`,
    [batchIds],
  );
}
