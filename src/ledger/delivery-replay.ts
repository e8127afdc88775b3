// Re-queues deliveries for another attempt, keeping their idempotency tokens, with a 'replayed' audit row each.
import type pg from "pg";
import { quoteIdentifier } from "../sql/sql-identifier.js";
import { recountRuns } from "./run-members.js";

export type ReplaySelection =
  | { readonly kind: "id"; readonly id: string }
  | { readonly kind: "connector"; readonly connector: string; readonly since?: Date; readonly until?: Date }
  | { readonly kind: "dead"; readonly connector?: string }
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
  const s = quoteIdentifier(schema);
  let where: string;
  let params: unknown[];
  switch (selection.kind) {
    case "id":
      where = "v.id = $1::bigint and v.state <> 'sending'";
      params = [selection.id];
      break;
    case "connector":
      where = `v.connector = $1 and v.state <> 'sending'
               and ($2::timestamptz is null or v.commit_time >= $2) and ($3::timestamptz is null or v.commit_time < $3)`;
      params = [selection.connector, selection.since ?? null, selection.until ?? null];
      break;
    case "dead":
      where = "v.state = 'dead' and ($1::text is null or v.connector = $1)";
      params = [selection.connector ?? null];
      break;
    case "last":
      where = `v.state <> 'sending' and v.id in (
                 select id from ${s}.delivery_items where connector = $1 and payload is not null order by id desc limit $2)`;
      params = [selection.connector, selection.count];
      break;
  }
  await client.query("begin");
  try {
    // The batches the chosen deliveries follow are locked first: a worker taking one over
    // meanwhile (FOR UPDATE SKIP LOCKED) passes it by, and reads its members only after the
    // replayed ones have left it.
    const batches = await client.query<{ id: string }>(
      `select b.id from ${s}.batches b
        where b.id in (select v.batch_id from ${s}.deliveries v where ${where} and v.payload is not null)
        order by b.id for update of b`,
      params,
    );
    const result = await client.query<{ id: string; token: string; connector: string; state: string }>(
      `with chosen as (
         select v.id, v.state as previous from ${s}.deliveries v
           join ${s}.delivery_items i on i.id = v.id
          where ${where} and v.payload is not null
            for update of i),
       replayed as (
         update ${s}.delivery_items d set own_state = true, state = 'pending', attempts = 0, batch_id = null,
                next_attempt_at = now(), first_attempt_at = null, last_error = null, updated_at = now(), sent_at = null
           from chosen where d.id = chosen.id
         returning d.id, d.token, d.connector, chosen.previous as state)
       insert into ${s}.audit (event, delivery_id, token, connector, attempt, detail)
       select 'replayed', id, token, connector, 0, jsonb_build_object('previous', state) from replayed
       returning delivery_id as id, token, connector`,
      params,
    );
    await recountRuns(
      client,
      schema,
      batches.rows.map((b) => b.id),
    );
    await client.query("commit");
    return { replayed: result.rowCount ?? 0, ids: result.rows.map((r) => r.id) };
  } catch (error) {
    await client.query("rollback").catch(() => undefined);
    throw error;
  }
}
