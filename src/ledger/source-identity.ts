// Reads and records which source server, timeline and slot start a slot's checkpoint belongs to.
import type { Lsn } from "../change/change.js";
import { formatLsn, parseLsn } from "../change/lsn.js";
import { quoteIdentifier } from "../sql/sql-identifier.js";
import type { Queryable } from "./queryable.js";

export interface RecordedSourceIdentity {
  readonly systemIdentifier: string;
  readonly timeline: number;
  /** Where the slot stood when ESS first used it (its creation point when ESS created it). */
  readonly slotStartLsn: Lsn;
}

export async function readSourceIdentity(
  ledger: Queryable,
  schema: string,
  slot: string,
): Promise<RecordedSourceIdentity | null> {
  const result = await ledger.query<{ system_identifier: string; timeline: number; slot_start_lsn: string }>(
    `select system_identifier, timeline, slot_start_lsn::text from ${quoteIdentifier(schema)}.source_identity where slot = $1`,
    [slot],
  );
  const row = result.rows[0];
  if (!row) return null;
  return {
    systemIdentifier: row.system_identifier,
    timeline: Number(row.timeline),
    slotStartLsn: parseLsn(row.slot_start_lsn),
  };
}

export async function recordSourceIdentity(
  ledger: Queryable,
  schema: string,
  slot: string,
  identity: RecordedSourceIdentity,
): Promise<void> {
  await ledger.query(
    `insert into ${quoteIdentifier(schema)}.source_identity (slot, system_identifier, timeline, slot_start_lsn)
     values ($1, $2, $3, $4::pg_lsn)
     on conflict (slot) do update set system_identifier = excluded.system_identifier, timeline = excluded.timeline,
       slot_start_lsn = excluded.slot_start_lsn, recorded_at = now()`,
    [slot, identity.systemIdentifier, identity.timeline, formatLsn(identity.slotStartLsn)],
  );
}
