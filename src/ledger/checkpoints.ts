// Reads the ledger's last durable position for a slot.
import type pg from "pg";
import type { Lsn } from "../change/change.js";
import { formatLsn, parseLsn } from "../change/lsn.js";
import { quoteIdentifier } from "../sql/sql-identifier.js";
import type { Queryable } from "./queryable.js";

export async function readCheckpoint(client: pg.ClientBase, schema: string, slot: string): Promise<Lsn | null> {
  const result = await client.query<{ confirmed_lsn: string }>(
    `select confirmed_lsn::text from ${quoteIdentifier(schema)}.checkpoints where slot = $1`,
    [slot],
  );
  const text = result.rows[0]?.confirmed_lsn;
  return text ? parseLsn(text) : null;
}

/** Sets the checkpoint to `lsn`, also backwards: only when the operator accepted a new source or slot. */
export async function resetCheckpoint(client: Queryable, schema: string, slot: string, lsn: Lsn): Promise<void> {
  await client.query(
    `update ${quoteIdentifier(schema)}.checkpoints set confirmed_lsn = $2::pg_lsn, updated_at = now() where slot = $1`,
    [slot, formatLsn(lsn)],
  );
}
