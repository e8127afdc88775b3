// The demo's business day on the HMS tables: permits filed, approved and denied, and a hearing moved
// with its application event sent through the Gateway in the same transaction (the transactional outbox).
import pg from "pg";
import type { ApplicationEvent, Gateway } from "../gateway/index.js";

export interface WorkloadStep {
  readonly description: string;
  /** The statements of one transaction; `$1`… bind to `params`. */
  readonly statements: readonly { readonly sql: string; readonly params?: readonly unknown[] }[];
  /** An application event sent with Gateway.send() inside the same transaction, after the statements. */
  readonly event?: ApplicationEvent;
}

export interface WorkloadResult {
  readonly description: string;
  /** The transaction id, as the change feed records it. */
  readonly xid: string;
  /** The Gateway receipt id of the step's event. */
  readonly receiptId?: string;
}

/** The permit whose first GIS delivery the demo's REST partner refuses with a 503. */
export const RETRIED_PERMIT = "BP24-0103";

export function demoWorkload(rescheduledTo: string): readonly WorkloadStep[] {
  const event = { topic: "reschedule", payload: { family: "A123", new_date: rescheduledTo } };
  return [
    {
      description: "permit BP24-0101 approved, fee 1250.00, hearing set for family A123",
      statements: [
        {
          sql: "insert into public.permits (id, status, amount, applicant_ssn) values ('BP24-0101', 'APPROVED', 1250.00, '123-45-6789')",
        },
        {
          sql: "insert into public.hearings (id, permit_id, family, scheduled_for) values (1, 'BP24-0101', 'A123', current_date + 7)",
        },
      ],
    },
    {
      description: "permit BP24-0102 filed (PENDING: no mapping sends it)",
      statements: [
        {
          sql: "insert into public.permits (id, status, amount, applicant_ssn) values ('BP24-0102', 'PENDING', 80.00, '987-65-4321')",
        },
      ],
    },
    {
      description: "permit BP24-0102 denied",
      statements: [{ sql: "update public.permits set status = 'DENIED', updated_at = now() where id = 'BP24-0102'" }],
    },
    {
      description: `permit ${RETRIED_PERMIT} approved, fee 15999.99 (the GIS bridge answers 503 once for it)`,
      statements: [
        {
          sql: "insert into public.permits (id, status, amount, applicant_ssn) values ($1, 'APPROVED', 15999.99, '555-12-3456')",
          params: [RETRIED_PERMIT],
        },
      ],
    },
    {
      description: `hearing of family A123 moved to ${rescheduledTo}; Gateway.send({ topic: "reschedule" }) in the same transaction`,
      statements: [
        { sql: "update public.hearings set scheduled_for = $1::date where id = 1", params: [rescheduledTo] },
      ],
      event,
    },
  ];
}

/** Runs each step as its own transaction and returns the transaction ids, in commit order. */
export async function runWorkload(
  databaseUrl: string,
  gateway: Gateway,
  steps: readonly WorkloadStep[],
): Promise<WorkloadResult[]> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: "hms-demo" });
  await client.connect();
  const results: WorkloadResult[] = [];
  try {
    for (const step of steps) {
      // A failed statement leaves the transaction open; closing the connection below rolls it back.
      await client.query("begin");
      for (const statement of step.statements) await client.query(statement.sql, [...(statement.params ?? [])]);
      // The transactional outbox: the event commits (or rolls back) with the business change.
      const receipt = step.event ? await gateway.send(step.event, { client }) : undefined;
      // The 32-bit xid, which is what the replication stream (and so the feed) carries.
      const xid = await client.query<{ xid: string }>("select pg_current_xact_id()::xid::text as xid");
      await client.query("commit");
      results.push({
        description: step.description,
        xid: xid.rows[0]?.xid ?? "",
        ...(receipt ? { receiptId: receipt.id } : {}),
      });
    }
  } finally {
    await client.end();
  }
  return results;
}
