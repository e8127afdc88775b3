// Inserts planned deliveries (idempotently, by token) with their 'queued' or 'dead' audit rows.
import type pg from "pg";
import type { Lsn } from "../source/change.js";
import { formatLsn } from "../source/lsn.js";
import { quoteIdentifier } from "./sql-identifier.js";

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

/** Returns how many deliveries were new (tokens already stored are dropped by the unique key). */
export async function insertDeliveries(
  client: pg.ClientBase,
  schema: string,
  deliveries: readonly PlannedDelivery[],
): Promise<number> {
  if (deliveries.length === 0) return 0;
  const s = quoteIdentifier(schema);
  const json = JSON.stringify(
    deliveries.map((d) => ({
      token: d.token,
      correlation_id: d.correlationId,
      connector: d.connector,
      mapping: d.mapping,
      target_index: d.targetIndex,
      ordering_key: d.orderingKey,
      commit_lsn: d.commitLsn === null ? null : formatLsn(d.commitLsn),
      ordinal: d.ordinal,
      commit_time: d.commitTime.toISOString(),
      state: d.state,
      payload: d.payload === null ? null : `\\x${d.payload.toString("hex")}`,
      last_error: d.error,
      receipt_id: d.event?.receiptId ?? null,
      app_correlation_id: d.event?.correlationId ?? null,
      trace_id: d.event?.traceId ?? null,
      max_attempts: d.event?.maxAttempts ?? null,
    })),
  );
  const result = await client.query(
    `with incoming as (
       select * from json_to_recordset($1::json) as r(token text, correlation_id text, connector text, mapping text,
              target_index integer, ordering_key text, commit_lsn pg_lsn, ordinal integer, commit_time timestamptz,
              state text, payload text, last_error text, receipt_id uuid, app_correlation_id text, trace_id text,
              max_attempts integer)
     ), inserted as (
       insert into ${s}.deliveries (token, correlation_id, connector, mapping, target_index, ordering_key, commit_lsn,
                                    ordinal, commit_time, state, payload, last_error, receipt_id, app_correlation_id,
                                    trace_id, max_attempts)
       select token, correlation_id, connector, mapping, target_index, ordering_key, commit_lsn, ordinal, commit_time,
              state, decode(substr(payload, 3), 'hex'), last_error, receipt_id, app_correlation_id, trace_id,
              max_attempts
         from incoming order by commit_lsn, ordinal, connector, target_index
       on conflict (token) do nothing
       returning id, token, connector, state, last_error, mapping, target_index, receipt_id, app_correlation_id,
                 trace_id
     )
     insert into ${s}.audit (event, delivery_id, token, connector, attempt, detail, error)
     select case when state = 'dead' then 'dead' else 'queued' end, id, token, connector, 0,
            jsonb_strip_nulls(jsonb_build_object('mapping', mapping, 'target', target_index, 'receiptId', receipt_id,
                              'correlationId', app_correlation_id, 'traceId', trace_id)), last_error
       from inserted`,
    [json],
  );
  return result.rowCount ?? 0;
}
