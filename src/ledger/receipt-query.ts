// Reads from the ledger what became of one event: its captured feed row and the deliveries made from it.
import { sql } from "kysely";
import { ledgerDb } from "./ledger-db.js";
import type { DeliveryState } from "./ledger-schema.js";
import type { Queryable } from "./queryable.js";

/** One delivery of an event: one per mapping target the event matched. */
export interface EventDelivery {
  readonly id: string;
  readonly connector: string;
  readonly mapping: string;
  readonly targetIndex: number;
  readonly state: DeliveryState;
  readonly attempts: number;
  readonly token: string;
  readonly correlationId: string;
  readonly lastError: string | null;
  readonly sentAt: Date | null;
  readonly confirmedAt: Date | null;
}

export interface EventTrace {
  /** Capture has stored the event (its transaction committed and the stream reached it). */
  readonly captured: boolean;
  readonly commitTime: Date | null;
  readonly deliveries: readonly EventDelivery[];
}

interface DeliveryRow {
  id: string;
  connector: string;
  mapping: string;
  target_index: number;
  state: DeliveryState;
  attempts: number;
  token: string;
  correlation_id: string;
  last_error: string | null;
  sent_at: Date | null;
  confirmed_at: Date | null;
}

/**
 * Feed rows of events hold the message JSON in `after`; the partial hash index on after->>'id'
 * (migration 000003) finds one among millions of changes. Deliveries point at their change by
 * (commit_lsn, ordinal).
 */
export async function readEventTrace(db: Queryable, schema: string, eventId: string): Promise<EventTrace> {
  const ledger = ledgerDb(db, schema);
  const event = await ledger
    .selectFrom("feed")
    .select([sql<string>`commit_lsn::text`.as("commit_lsn"), "ordinal", "commit_time"])
    .where("op", "=", "message")
    .where(sql<boolean>`(after ->> 'id') = ${eventId}`)
    .limit(1)
    .executeTakeFirst();
  if (!event) return { captured: false, commitTime: null, deliveries: [] };
  const rows: DeliveryRow[] = await ledger
    .selectFrom("deliveries")
    .select([
      "id",
      "connector",
      "mapping",
      "target_index",
      "state",
      "attempts",
      "token",
      "correlation_id",
      "last_error",
      "sent_at",
      "confirmed_at",
    ])
    .where(sql<boolean>`commit_lsn = ${event.commit_lsn}::pg_lsn`)
    .where("ordinal", "=", event.ordinal)
    .orderBy("id")
    .execute();
  return {
    captured: true,
    commitTime: event.commit_time,
    deliveries: rows.map((d) => ({
      id: d.id,
      connector: d.connector,
      mapping: d.mapping,
      targetIndex: d.target_index,
      state: d.state,
      attempts: d.attempts,
      token: d.token,
      correlationId: d.correlation_id,
      lastError: d.last_error,
      sentAt: d.sent_at,
      confirmedAt: d.confirmed_at,
    })),
  };
}
