// Appends rows to the audit trail: one per hop of a change or delivery, never a secret or a PII value.
import { sql } from "kysely";
import { ledgerDb, ledgerTable } from "./ledger-db.js";
import type { Queryable } from "./queryable.js";
import { storableJson, storableText } from "./storable-text.js";

export type AuditEvent =
  | "captured"
  | "mapped"
  | "queued"
  | "attempted"
  | "sent"
  | "failed"
  | "dead"
  | "replayed"
  | "confirmed"
  | "paused"
  | "resumed"
  | "offline"
  | "online"
  | "attention"
  | "pruned"
  | "rotated"
  | "source_mismatch"
  | "source_accepted"
  | "slot_invalidated"
  | "capture_leader";

export interface AuditRow {
  readonly event: AuditEvent;
  readonly deliveryId?: string | null;
  readonly token?: string | null;
  readonly connector?: string | null;
  readonly attempt?: number | null;
  readonly detail?: Readonly<Record<string, unknown>> | null;
  readonly error?: string | null;
}

export async function appendAudit(client: Queryable, schema: string, rows: readonly AuditRow[]): Promise<void> {
  if (rows.length === 0) return;
  // One JSON document for all rows: one statement, however many hops a batch records.
  const json = JSON.stringify(
    rows.map((r) => ({
      event: r.event,
      delivery_id: r.deliveryId ?? null,
      token: r.token ?? null,
      connector: r.connector ?? null,
      attempt: r.attempt ?? null,
      detail: r.detail ? storableJson(r.detail) : null,
      error: r.error != null ? storableText(r.error) : null,
    })),
  );
  await sql`insert into ${ledgerTable(schema, "audit")} (event, delivery_id, token, connector, attempt, detail, error)
     select r.event, r.delivery_id, r.token, r.connector, r.attempt, r.detail, r.error
       from json_to_recordset(${json}::json) as r(event text, delivery_id bigint, token text, connector text,
            attempt integer, detail jsonb, error text)`.execute(ledgerDb(client, schema));
}
