// Re-queues deliveries for another attempt, keeping their idempotency tokens, with a 'replayed' audit row each.
import { type RawBuilder, sql } from "kysely";
import type pg from "pg";
import { ledgerDb, ledgerTable } from "./ledger-db.js";
import { recountRuns } from "./run-members.js";

export type ReplaySelection =
  | { readonly kind: "id"; readonly id: string }
  | { readonly kind: "connector"; readonly connector: string; readonly since?: Date; readonly until?: Date }
  | { readonly kind: "dead"; readonly connector?: string; readonly since?: Date; readonly until?: Date }
  /** The connector's last N deliveries (by capture order): the replay buffer of recent messages. */
  | { readonly kind: "last"; readonly connector: string; readonly count: number };

export interface ReplayResult {
  readonly replayed: number;
  readonly ids: readonly string[];
}

/**
 * Replayed deliveries leave any old batch (a drop batch that went dead is not resent under its
 * old name) and start over with a fresh attempt count; deliveries on their way (sending) are
 * left alone, so a replay never races a send in progress.
 */
export async function replayDeliveries(
  client: pg.ClientBase,
  schema: string,
  selection: ReplaySelection,
): Promise<ReplayResult> {
  const db = ledgerDb(client, schema);
  const items = ledgerTable(schema, "delivery_items");
  const deliveries = ledgerTable(schema, "deliveries");
  const where = chosenBy(selection, items);
  await client.query("begin");
  try {
    // The batches the chosen deliveries follow are locked first: a worker taking one over
    // meanwhile (FOR UPDATE SKIP LOCKED) passes it by, and reads its members only after the
    // replayed ones have left it.
    const batches = await sql<{ id: string }>`
      select b.id from ${ledgerTable(schema, "batches")} b
        where b.id in (select v.batch_id from ${deliveries} v where ${where} and v.payload is not null)
        order by b.id for update of b`.execute(db);
    const result = await sql<{ id: string; token: string; connector: string }>`
      with chosen as (
         select v.id, v.state as previous from ${deliveries} v
           join ${items} i on i.id = v.id
          where ${where} and v.payload is not null
            for update of i),
       replayed as (
         update ${items} d set own_state = true, state = 'pending', attempts = 0, batch_id = null,
                next_attempt_at = now(), first_attempt_at = null, last_error = null, updated_at = now(), sent_at = null
           from chosen where d.id = chosen.id
         returning d.id, d.token, d.connector, chosen.previous as state)
       insert into ${ledgerTable(schema, "audit")} (event, delivery_id, token, connector, attempt, detail)
       select 'replayed', id, token, connector, 0, jsonb_build_object('previous', state) from replayed
       returning delivery_id as id, token, connector`.execute(db);
    await recountRuns(
      client,
      schema,
      batches.rows.map((b) => b.id),
    );
    await client.query("commit");
    return { replayed: result.rows.length, ids: result.rows.map((r) => r.id) };
  } catch (error) {
    await client.query("rollback").catch(() => undefined);
    throw error;
  }
}

/** The condition on the deliveries view `v` that picks what a selection replays. */
function chosenBy(selection: ReplaySelection, items: RawBuilder<unknown>): RawBuilder<unknown> {
  const since = selection.kind === "connector" || selection.kind === "dead" ? (selection.since ?? null) : null;
  const until = selection.kind === "connector" || selection.kind === "dead" ? (selection.until ?? null) : null;
  const window = sql`(${since}::timestamptz is null or v.commit_time >= ${since}::timestamptz)
    and (${until}::timestamptz is null or v.commit_time < ${until}::timestamptz)`;
  switch (selection.kind) {
    case "id":
      return sql`v.id = ${selection.id}::bigint and v.state <> 'sending'`;
    case "connector":
      return sql`v.connector = ${selection.connector} and v.state <> 'sending' and ${window}`;
    case "dead":
      return sql`v.state = 'dead' and (${selection.connector ?? null}::text is null or v.connector = ${selection.connector ?? null}::text)
        and ${window}`;
    case "last":
      return sql`v.state <> 'sending' and v.id in (
        select id from ${items} where connector = ${selection.connector} and payload is not null
         order by id desc limit ${selection.count})`;
  }
}
