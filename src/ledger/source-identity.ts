// Reads and records which source server, timeline and slot start a slot's checkpoint belongs to.
import { sql } from "kysely";
import type { Lsn } from "../change/change.js";
import { formatLsn, parseLsn } from "../change/lsn.js";
import { ledgerDb } from "./ledger-db.js";
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
  const row = await ledgerDb(ledger, schema)
    .selectFrom("source_identity")
    .select(["system_identifier", "timeline", sql<string>`slot_start_lsn::text`.as("slot_start_lsn")])
    .where("slot", "=", slot)
    .executeTakeFirst();
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
  await ledgerDb(ledger, schema)
    .insertInto("source_identity")
    .values({
      slot,
      system_identifier: identity.systemIdentifier,
      timeline: identity.timeline,
      slot_start_lsn: sql<string>`${formatLsn(identity.slotStartLsn)}::pg_lsn`,
    })
    .onConflict((oc) =>
      oc.column("slot").doUpdateSet((eb) => ({
        system_identifier: eb.ref("excluded.system_identifier"),
        timeline: eb.ref("excluded.timeline"),
        slot_start_lsn: eb.ref("excluded.slot_start_lsn"),
        recorded_at: sql<Date>`now()`,
      })),
    )
    .execute();
}
