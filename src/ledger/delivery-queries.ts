// Read-side queries for operators: deliveries by connector and state, and per-connector counts.
import { sql } from "kysely";
import { ledgerDb, ledgerTable } from "./ledger-db.js";
import type { DeliveryState } from "./ledger-schema.js";
import type { Queryable } from "./queryable.js";

export { DELIVERY_STATES, type DeliveryState } from "./ledger-schema.js";

export interface DeliveryListing {
  readonly id: string;
  readonly connector: string;
  readonly mapping: string;
  readonly state: DeliveryState;
  readonly attempts: number;
  readonly nextAttemptAt: Date | null;
  readonly token: string;
  readonly correlationId: string;
  readonly key: string;
  readonly lastError: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface ListFilter {
  readonly connector?: string;
  readonly state?: DeliveryState;
  /** Only deliveries whose state changed at or after this time. */
  readonly since?: Date;
  readonly limit: number;
}

export async function listDeliveries(db: Queryable, schema: string, filter: ListFilter): Promise<DeliveryListing[]> {
  let query = ledgerDb(db, schema)
    .selectFrom("deliveries")
    .select([
      "id",
      "connector",
      "mapping",
      "state",
      "attempts",
      sql<Date | null>`case when state in ('pending', 'retrying') then next_attempt_at end`.as("next_attempt_at"),
      "token",
      "correlation_id",
      "ordering_key",
      "last_error",
      "created_at",
      "updated_at",
    ])
    .orderBy("id", "desc")
    .limit(filter.limit);
  if (filter.connector !== undefined) query = query.where("connector", "=", filter.connector);
  if (filter.state !== undefined) query = query.where("state", "=", filter.state);
  if (filter.since !== undefined) query = query.where("updated_at", ">=", filter.since);
  const rows = await query.execute();
  return rows.map((r) => ({
    id: r.id,
    connector: r.connector,
    mapping: r.mapping,
    state: r.state,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    token: r.token,
    correlationId: r.correlation_id,
    key: r.ordering_key,
    lastError: r.last_error,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }));
}

export interface ConnectorCounts {
  readonly connector: string;
  readonly pending: number;
  readonly sending: number;
  readonly retrying: number;
  readonly dead: number;
  readonly sent: number;
  readonly confirmed: number;
  readonly lastSuccessAt: Date | null;
  readonly paused: boolean;
  readonly online: boolean;
  readonly attention: string | null;
  readonly lastHeartbeatAt: Date | null;
}

export async function connectorCounts(db: Queryable, schema: string): Promise<ConnectorCounts[]> {
  const result = await sql<{
    connector: string;
    pending: string;
    sending: string;
    retrying: string;
    dead: string;
    sent: string;
    confirmed: string;
    last_success_at: Date | null;
    paused: boolean | null;
    online: boolean | null;
    attention: string | null;
    last_heartbeat_at: Date | null;
  }>`
    with counts as (
       select connector,
              count(*) filter (where state = 'pending') as pending,
              count(*) filter (where state = 'sending') as sending,
              count(*) filter (where state = 'retrying') as retrying,
              count(*) filter (where state = 'dead') as dead,
              count(*) filter (where state = 'sent') as sent,
              count(*) filter (where state = 'confirmed') as confirmed
         from ${ledgerTable(schema, "deliveries")} group by connector)
     select coalesce(c.connector, k.connector) as connector,
            coalesce(k.pending, 0) as pending, coalesce(k.sending, 0) as sending, coalesce(k.retrying, 0) as retrying,
            coalesce(k.dead, 0) as dead, coalesce(k.sent, 0) as sent, coalesce(k.confirmed, 0) as confirmed,
            c.last_success_at, c.paused, c.online, c.attention, c.last_heartbeat_at
       from ${ledgerTable(schema, "connectors")} c full join counts k on k.connector = c.connector
      order by 1`.execute(ledgerDb(db, schema));
  return result.rows.map((r) => ({
    connector: r.connector,
    pending: Number(r.pending),
    sending: Number(r.sending),
    retrying: Number(r.retrying),
    dead: Number(r.dead),
    sent: Number(r.sent),
    confirmed: Number(r.confirmed),
    lastSuccessAt: r.last_success_at,
    paused: r.paused ?? false,
    online: r.online ?? true,
    attention: r.attention,
    lastHeartbeatAt: r.last_heartbeat_at,
  }));
}

export interface WaitingDelivery {
  readonly id: string;
  readonly token: string;
  readonly correlationId: string;
  readonly payload: Buffer | null;
}

/** A connector's deliveries waiting to be sent (pending or retrying) after `afterId`, in id order. */
export async function waitingDeliveries(
  db: Queryable,
  schema: string,
  connector: string,
  afterId: string,
  limit: number,
): Promise<WaitingDelivery[]> {
  const rows = await ledgerDb(db, schema)
    .selectFrom("deliveries")
    .select(["id", "token", "correlation_id", "payload"])
    .where("connector", "=", connector)
    .where("state", "in", ["pending", "retrying"])
    .where("id", ">", afterId)
    .orderBy("id")
    .limit(limit)
    .execute();
  return rows.map((r) => ({ id: r.id, token: r.token, correlationId: r.correlation_id, payload: r.payload }));
}
