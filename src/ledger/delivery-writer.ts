// Stores planned deliveries: by COPY in the capture transaction (each delivery written once),
// or idempotently when some may already be stored (a change read again, a backfill).
// The audit gets one 'queued' row per connector and write (with the count and the change range),
// one 'queued' row per delivery of an application event (with its receipt, correlation and trace
// ids) and one 'dead' row per delivery that could not be rendered.
import { pipeline } from "node:stream/promises";
import { type RawBuilder, sql } from "kysely";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import type { Lsn } from "../change/change.js";
import { formatLsn } from "../change/lsn.js";
import { quoteIdentifier } from "../sql/sql-identifier.js";
import { copyField, copyLines } from "./copy-text.js";
import { ledgerDb, ledgerTable } from "./ledger-db.js";
import { storableText } from "./storable-text.js";
import { indexedPartOf, tokenPartOf } from "./token-lookup.js";

export interface PlannedDelivery {
  readonly token: string;
  readonly correlationId: string;
  readonly connector: string;
  readonly mapping: string;
  readonly targetIndex: number;
  readonly orderingKey: string;
  readonly commitLsn: Lsn | null;
  readonly ordinal: number | null;
  readonly commitTime: Date;
  /** 'dead' when the record could not be rendered: it waits in the dead letters with its reason. */
  readonly state: "pending" | "dead";
  readonly payload: Buffer | null;
  readonly error: string | null;
  /** For deliveries made from an application event: its receipt id and options. */
  readonly event?: {
    readonly receiptId: string | null;
    readonly maxAttempts: number | null;
    readonly correlationId: string | null;
    readonly traceId: string | null;
  };
}

/**
 * The columns COPY and the idempotent insert write, in this order. The correlation id is not
 * among them: it is the token's short form, derived where it is read (see token-lookup.ts).
 */
const COLUMNS = `token, connector, mapping, target_index, ordering_key, commit_lsn, ordinal, commit_time,
  state, payload, last_error, receipt_id, app_correlation_id, trace_id, max_attempts, own_state`;

/**
 * Writes deliveries none of which can be stored yet (their changes are new to the feed in the
 * same transaction). A unique violation means some were stored after all: the caller rolls
 * back and uses insertDeliveries.
 */
export async function copyDeliveries(
  client: pg.ClientBase,
  schema: string,
  deliveries: readonly PlannedDelivery[],
): Promise<number> {
  if (deliveries.length === 0) return 0;
  const s = quoteIdentifier(schema);
  await pipeline(
    copyLines(deliveries, copyLine),
    client.query(copyFrom(`copy ${s}.delivery_items (${COLUMNS}) from stdin`)),
  );
  await auditQueued(client, schema, deliveries);
  return deliveries.length;
}

/** Returns how many deliveries were new (those already stored are dropped by the unique keys). */
export async function insertDeliveries(
  client: pg.ClientBase,
  schema: string,
  deliveries: readonly PlannedDelivery[],
): Promise<number> {
  if (deliveries.length === 0) return 0;
  const json = JSON.stringify(
    deliveries.map((d) => ({
      token: d.token,
      connector: d.connector,
      mapping: d.mapping,
      target_index: d.targetIndex,
      ordering_key: storableText(d.orderingKey),
      commit_lsn: d.commitLsn === null ? null : formatLsn(d.commitLsn),
      ordinal: d.ordinal,
      commit_time: d.commitTime.toISOString(),
      state: d.state,
      payload: d.payload === null ? null : `\\x${d.payload.toString("hex")}`,
      last_error: d.error === null ? null : storableText(d.error),
      receipt_id: d.event?.receiptId ?? null,
      app_correlation_id: d.event?.correlationId ?? null,
      trace_id: d.event?.traceId ?? null,
      max_attempts: d.event?.maxAttempts ?? null,
    })),
  );
  const result = await sql<{ token: string }>`
    insert into ${ledgerTable(schema, "delivery_items")} (${sql.raw(COLUMNS)})
     select token, connector, mapping, target_index, ordering_key, commit_lsn, ordinal, commit_time,
            state, decode(substr(payload, 3), 'hex'), last_error, receipt_id, app_correlation_id, trace_id, max_attempts,
            state = 'dead' or receipt_id is not null
       from json_to_recordset(${json}::json) as r(token text, connector text, mapping text,
            target_index integer, ordering_key text, commit_lsn pg_lsn, ordinal integer, commit_time timestamptz,
            state text, payload text, last_error text, receipt_id uuid, app_correlation_id text, trace_id text,
            max_attempts integer)
      order by commit_lsn, ordinal, connector, target_index
     -- A stored delivery is recognised by its change identity (the token hashes it) or, for one
     -- without (a backfill's), by its token: both keys are unique indexes.
     on conflict do nothing
     returning token`.execute(ledgerDb(client, schema));
  const fresh = new Set(result.rows.map((r) => r.token));
  await auditQueued(
    client,
    schema,
    deliveries.filter((d) => fresh.has(d.token)),
  );
  return fresh.size;
}

/** One 'queued' row per connector and mapping target; one 'dead' row per unrenderable record. */
async function auditQueued(client: pg.ClientBase, schema: string, stored: readonly PlannedDelivery[]): Promise<void> {
  if (stored.length === 0) return;
  const db = ledgerDb(client, schema);
  const audit = ledgerTable(schema, "audit");
  const items = ledgerTable(schema, "delivery_items");
  // The first and last delivery of each group: only their change identities are written.
  const groups = new Map<string, { first: PlannedDelivery; last: PlannedDelivery; count: number }>();
  const dead: string[] = [];
  const events: string[] = [];
  for (const d of stored) {
    if (d.state === "dead") {
      dead.push(d.token);
      continue;
    }
    if (d.event) {
      events.push(d.token);
      continue;
    }
    const key = `${d.connector}\u0000${d.mapping}\u0000${d.targetIndex}`;
    const group = groups.get(key);
    if (group) {
      group.count++;
      group.last = d;
    } else {
      groups.set(key, { first: d, last: d, count: 1 });
    }
  }
  const change = (d: PlannedDelivery) => (d.commitLsn === null ? null : `${formatLsn(d.commitLsn)}/${d.ordinal}`);
  if (groups.size > 0) {
    const json = JSON.stringify(
      [...groups.values()].map((g) => ({
        connector: g.first.connector,
        mapping: g.first.mapping,
        target: g.first.targetIndex,
        count: g.count,
        from_change: change(g.first),
        to_change: change(g.last),
      })),
    );
    await sql`insert into ${audit} (event, connector, attempt, detail)
       select 'queued', r.connector, 0, jsonb_build_object('mapping', r.mapping, 'target', r.target, 'count', r.count,
              'fromChange', r.from_change, 'toChange', r.to_change)
         from json_to_recordset(${json}::json) as r(connector text, mapping text, target integer, count integer,
              from_change text, to_change text)`.execute(db);
  }
  if (events.length > 0) {
    await sql`insert into ${audit} (event, delivery_id, token, connector, attempt, detail)
       select 'queued', d.id, d.token, d.connector, 0,
              jsonb_strip_nulls(jsonb_build_object('mapping', d.mapping, 'target', d.target_index,
                'receiptId', d.receipt_id, 'correlationId', d.app_correlation_id, 'traceId', d.trace_id))
         from ${items} d where ${byTokens(events)}`.execute(db);
  }
  if (dead.length > 0) {
    await sql`insert into ${audit} (event, delivery_id, token, connector, attempt, detail, error)
       select 'dead', d.id, d.token, d.connector, 0, jsonb_build_object('mapping', d.mapping, 'target', d.target_index),
              d.last_error
         from ${items} d where ${byTokens(dead)}`.execute(db);
  }
}

/** Deliveries by their tokens, through the token index. */
function byTokens(tokens: readonly string[]): RawBuilder<unknown> {
  // The same expression on both sides, so a token of any form (not only 'ess1-') is found.
  const parts = tokens.map(indexedPartOf);
  return sql`${tokenPartOf(sql.ref("d.token"))} = any(${parts}::text[]) and d.token = any(${tokens}::text[])`;
}

/** A delivery as a line of COPY text. */
function copyLine(d: PlannedDelivery): string {
  return (
    `${copyField(d.token)}\t${copyField(d.connector)}\t${copyField(d.mapping)}\t` +
    `${d.targetIndex}\t${copyField(d.orderingKey)}\t${d.commitLsn === null ? "\\N" : formatLsn(d.commitLsn)}\t` +
    `${d.ordinal === null ? "\\N" : d.ordinal}\t${d.commitTime.toISOString()}\t${d.state}\t` +
    // bytea hex input; the backslash is doubled for COPY's text format.
    `${d.payload === null ? "\\N" : `\\\\x${d.payload.toString("hex")}`}\t${copyField(d.error)}\t` +
    `${copyField(d.event?.receiptId ?? null)}\t${copyField(d.event?.correlationId ?? null)}\t` +
    `${copyField(d.event?.traceId ?? null)}\t${d.event?.maxAttempts ?? "\\N"}\t` +
    // A record that could not be rendered is dead on its own, and an application event's
    // delivery announces each change of its state to the event's receipt: both carry a state
    // of their own. The rest follow their batch.
    `${d.state === "dead" || d.event?.receiptId ? "t" : "f"}\n`
  );
}
