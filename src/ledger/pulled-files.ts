// The ledger side of pulled answers: answer files applied (name + checksum, recorded in the
// transaction that applies their answers) and the deliveries still waiting for an answer.
import { sql } from "kysely";
import type pg from "pg";
import { appendAudit } from "./audit.js";
import { ledgerDb } from "./ledger-db.js";
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
  const result = await ledgerDb(client, schema)
    .insertInto("pulled_files")
    .values({
      connector: file.connector,
      name: file.name,
      checksum: file.checksum,
      answers: file.answers,
      unmatched: file.unmatched,
    })
    .onConflict((oc) => oc.doNothing())
    .executeTakeFirst();
  return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
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
  const rows = await ledgerDb(db, schema)
    .selectFrom("deliveries")
    .select(["id", "token", "correlation_id", sql<Date>`coalesce(sent_at, updated_at)`.as("sent_at")])
    .where("connector", "=", connector)
    .where("state", "=", "sent")
    .orderBy(sql`coalesce(sent_at, updated_at)`)
    .orderBy("id")
    .limit(limit)
    .execute();
  return rows.map((r) => ({ id: r.id, token: r.token, correlationId: r.correlation_id, sentAt: r.sent_at }));
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
    const result = await ledgerDb(client, schema)
      .updateTable("deliveries")
      .set({ state: "dead", last_error: reason, updated_at: sql<Date>`now()` })
      .where("id", "=", delivery.id)
      .where("state", "=", "sent")
      .executeTakeFirst();
    const changed = result.numUpdatedRows > 0n;
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
  await ledgerDb(client, schema)
    .updateTable("pulled_files")
    .set({ unmatched: file.unmatched })
    .where("connector", "=", file.connector)
    .where("name", "=", file.name)
    .where("checksum", "=", file.checksum)
    .execute();
}
