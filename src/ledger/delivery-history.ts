// Reads from the ledger which deliveries needed more than one attempt, and why the earlier ones failed.
import { sql } from "kysely";
import type pg from "pg";
import { ledgerDb, ledgerTable } from "./ledger-db.js";

export interface RetriedDelivery {
  readonly id: string;
  readonly connector: string;
  readonly key: string;
  readonly token: string;
  readonly state: string;
  readonly attempts: number;
  readonly reference: string | null;
  /** The audit trail's failed attempts, oldest first. */
  readonly failures: readonly { readonly attempt: number | null; readonly error: string | null }[];
}

/** A failure names the delivery, or the run of deliveries its batch covered. */
export async function retriedDeliveries(ledger: pg.ClientBase, schema: string): Promise<RetriedDelivery[]> {
  const result = await sql<{
    id: string;
    connector: string;
    ordering_key: string;
    token: string;
    state: string;
    attempts: number;
    partner_reference: string | null;
    failures: { attempt: number | null; error: string | null }[];
  }>`
    select d.id, d.connector, d.ordering_key, d.token, d.state, d.attempts, d.partner_reference,
            coalesce((select json_agg(json_build_object('attempt', a.attempt, 'error', a.error) order by a.id)
                        from ${ledgerTable(schema, "audit")} a
                       where a.event = 'failed'
                         and (a.delivery_id = d.id
                              or (a.delivery_id is null and a.connector = d.connector
                                  and d.id between (a.detail->>'firstId')::bigint and (a.detail->>'lastId')::bigint))),
                     '[]') as failures
       from ${ledgerTable(schema, "deliveries")} d
      where d.attempts > 1
      order by d.id`.execute(ledgerDb(ledger, schema));
  return result.rows.map((r) => ({
    id: r.id,
    connector: r.connector,
    key: r.ordering_key,
    token: r.token,
    state: r.state,
    attempts: r.attempts,
    reference: r.partner_reference,
    failures: r.failures,
  }));
}
