// Reads the ledger's last durable position for a slot.
import { sql } from "kysely";
import type pg from "pg";
import type { Lsn } from "../change/change.js";
import { formatLsn, parseLsn } from "../change/lsn.js";
import { ledgerDb } from "./ledger-db.js";
import type { Queryable } from "./queryable.js";

export async function readCheckpoint(client: pg.ClientBase, schema: string, slot: string): Promise<Lsn | null> {
  const row = await ledgerDb(client, schema)
    .selectFrom("checkpoints")
    .select(sql<string>`confirmed_lsn::text`.as("confirmed_lsn"))
    .where("slot", "=", slot)
    .executeTakeFirst();
  return row?.confirmed_lsn ? parseLsn(row.confirmed_lsn) : null;
}

/** Sets the checkpoint to `lsn`, also backwards: only when the operator accepted a new source or slot. */
export async function resetCheckpoint(client: Queryable, schema: string, slot: string, lsn: Lsn): Promise<void> {
  await ledgerDb(client, schema)
    .updateTable("checkpoints")
    .set({ confirmed_lsn: sql<string>`${formatLsn(lsn)}::pg_lsn`, updated_at: sql<Date>`now()` })
    .where("slot", "=", slot)
    .execute();
}
