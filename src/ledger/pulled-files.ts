// The ledger side of pulled answers: answer files applied (name + checksum, recorded in the
// transaction that applies their answers) and the deliveries still waiting for an answer.
import type pg from "pg";
import { quoteIdentifier } from "../sql/sql-identifier.js";
import { appendAudit } from "./audit.js";
import type { Queryable } from "./queryable.js";

export interface PulledFile {
  readonly connector: string;
  readonly name: string;
  readonly checksum: string;
  readonly answers: number;
  readonly unmatched: number;
}

/** False when this very file (name and checksum) was applied before: its answers must not be applied again. */
export async function recordPulledFile(client: pg.ClientBase, schema: string, file: PulledFile): Promise<boolean> {
  const result = await client.query(
    `insert into ${quoteIdentifier(schema)}.pulled_files (connector, name, checksum, answers, unmatched)
     values ($1, $2, $3, $4, $5) on conflict do nothing`,
    [file.connector, file.name, file.checksum, file.answers, file.unmatched],
  );
  return (result.rowCount ?? 0) > 0;
}

export interface AwaitingAnswer {
  readonly id: string;
  readonly token: string;
  readonly correlationId: string;
  readonly sentAt: Date;
}

/** Deliveries the partner accepted for processing and has not answered yet, longest waiting first. */
export async function deliveriesAwaitingAnswer(
  db: Queryable,
  schema: string,
  connector: string,
  limit: number,
): Promise<AwaitingAnswer[]> {
  const result = await db.query<{ id: string; token: string; correlation_id: string; sent_at: Date }>(
    `select id, token, correlation_id, coalesce(sent_at, updated_at) as sent_at
       from ${quoteIdentifier(schema)}.deliveries
      where connector = $1 and state = 'sent'
      order by coalesce(sent_at, updated_at), id
      limit $2`,
    [connector, limit],
  );
  return result.rows.map((r) => ({ id: r.id, token: r.token, correlationId: r.correlation_id, sentAt: r.sent_at }));
}

/** A delivery that got no answer in time goes dead with the reason (replayable); false if it moved meanwhile. */
export async function giveUpWaiting(
  client: pg.ClientBase,
  schema: string,
  connector: string,
  delivery: { id: string; token: string },
  reason: string,
): Promise<boolean> {
  await client.query("begin");
  try {
    const result = await client.query(
      `update ${quoteIdentifier(schema)}.deliveries set state = 'dead', last_error = $2, updated_at = now()
        where id = $1 and state = 'sent'`,
      [delivery.id, reason],
    );
    const changed = (result.rowCount ?? 0) > 0;
    if (changed) {
      await appendAudit(client, schema, [
        {
          event: "dead",
          deliveryId: delivery.id,
          token: delivery.token,
          connector,
          error: reason,
          detail: { via: "poll" },
        },
      ]);
    }
    await client.query("commit");
    return changed;
  } catch (error) {
    await client.query("rollback").catch(() => undefined);
    throw error;
  }
}

/** The count of answers that named no delivery, known once the file's answers are applied. */
export async function setPulledFileUnmatched(client: pg.ClientBase, schema: string, file: PulledFile): Promise<void> {
  await client.query(
    `update ${quoteIdentifier(schema)}.pulled_files set unmatched = $4
      where connector = $1 and name = $2 and checksum = $3`,
    [file.connector, file.name, file.checksum, file.unmatched],
  );
}
