// Emits application events the way capture reads them: a transactional logical message "ess.event" { topic, payload }.
import pg from "pg";
import { EVENT_MESSAGE_PREFIX } from "../../src/capture/feed-rows.js";

/** Sends one event in its own transaction; with `rollback` the transaction (and so the event) is abandoned. */
export async function emitEvent(
  url: string,
  topic: string,
  payload: Readonly<Record<string, unknown>>,
  options: { readonly rollback?: boolean } = {},
): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("begin");
    await client.query("select pg_logical_emit_message(true, $1::text, $2::text)", [
      EVENT_MESSAGE_PREFIX,
      JSON.stringify({ topic, payload }),
    ]);
    await client.query(options.rollback ? "rollback" : "commit");
  } finally {
    await client.end();
  }
}
