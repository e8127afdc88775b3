// Reads the ledger's last durable position for a slot.
import type pg from "pg";
import type { Lsn } from "../change/change.js";
import { parseLsn } from "../change/lsn.js";
import { quoteIdentifier } from "../sql/sql-identifier.js";

export async function readCheckpoint(client: pg.ClientBase, schema: string, slot: string): Promise<Lsn | null> {
  const result = await client.query<{ confirmed_lsn: string }>(
    `select confirmed_lsn::text from ${quoteIdentifier(schema)}.checkpoints where slot = $1`,
    [slot],
  );
  const text = result.rows[0]?.confirmed_lsn;
  return text ? parseLsn(text) : null;
}
