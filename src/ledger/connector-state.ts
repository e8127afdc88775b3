// Per-connector operator and health state in the ledger: pause, online/offline, attention, batch sequence.
import type pg from "pg";
import { quoteIdentifier } from "../sql/sql-identifier.js";
import { appendAudit } from "./audit.js";
import type { Queryable } from "./queryable.js";

export interface ConnectorState {
  readonly connector: string;
  readonly paused: boolean;
  readonly online: boolean;
  readonly heartbeatFailures: number;
  readonly attention: string | null;
  readonly lastSuccessAt: Date | null;
  readonly lastHeartbeatAt: Date | null;
}

export async function ensureConnectorRows(client: Queryable, schema: string, names: readonly string[]): Promise<void> {
  await client.query(
    `insert into ${quoteIdentifier(schema)}.connectors (connector) select unnest($1::text[]) on conflict do nothing`,
    [names],
  );
}

export async function readConnectorStates(client: Queryable, schema: string): Promise<Map<string, ConnectorState>> {
  const result = await client.query<{
    connector: string;
    paused: boolean;
    online: boolean;
    heartbeat_failures: number;
    attention: string | null;
    last_success_at: Date | null;
    last_heartbeat_at: Date | null;
  }>(`select * from ${quoteIdentifier(schema)}.connectors`);
  return new Map(
    result.rows.map((r) => [
      r.connector,
      {
        connector: r.connector,
        paused: r.paused,
        online: r.online,
        heartbeatFailures: r.heartbeat_failures,
        attention: r.attention,
        lastSuccessAt: r.last_success_at,
        lastHeartbeatAt: r.last_heartbeat_at,
      },
    ]),
  );
}

/** Pauses or resumes a connector; returns false when it already was in that state. */
export async function setPaused(
  client: pg.ClientBase,
  schema: string,
  connector: string,
  paused: boolean,
): Promise<boolean> {
  const s = quoteIdentifier(schema);
  await ensureConnectorRows(client, schema, [connector]);
  const result = await client.query(
    `update ${s}.connectors set paused = $2, updated_at = now() where connector = $1 and paused <> $2`,
    [connector, paused],
  );
  const changed = (result.rowCount ?? 0) > 0;
  if (changed) await appendAudit(client, schema, [{ event: paused ? "paused" : "resumed", connector }]);
  return changed;
}

/**
 * Records one heartbeat result; returns the transition ('offline' | 'online') if the state changed.
 * Coming back online makes the connector's waiting retries due at once: the partner is back, and
 * a backoff that grew during the outage should not keep the backlog waiting for it.
 */
export async function recordHeartbeat(
  client: Queryable,
  schema: string,
  connector: string,
  ok: boolean,
  offlineAfter: number,
  error?: string,
): Promise<"offline" | "online" | null> {
  const s = quoteIdentifier(schema);
  // One statement, so the state change and its audit row cannot part.
  const result = await client.query<{ was_online: boolean; online: boolean }>(
    `with old as (select online as was_online from ${s}.connectors where connector = $1 for update),
     changed as (
       update ${s}.connectors c set
         heartbeat_failures = case when $2 then 0 else c.heartbeat_failures + 1 end,
         online = case when $2 then true when c.heartbeat_failures + 1 >= $3 then false else c.online end,
         last_heartbeat_at = case when $2 then now() else c.last_heartbeat_at end,
         updated_at = now()
       from old where c.connector = $1
       returning old.was_online, c.online),
     audited as (
       insert into ${s}.audit (event, connector, error)
       select case when online then 'online' else 'offline' end, $1, $4 from changed where was_online <> online),
     due_deliveries as (
       update ${s}.delivery_items set next_attempt_at = now()
        where connector = $1 and own_state and state = 'retrying' and batch_id is null and next_attempt_at > now()
          and exists (select 1 from changed where online and not was_online)),
     due_batches as (
       update ${s}.batches set next_attempt_at = now()
        where connector = $1 and state = 'retrying' and next_attempt_at > now()
          and exists (select 1 from changed where online and not was_online))
     select was_online, online from changed`,
    [connector, ok, offlineAfter, ok ? null : (error ?? "heartbeat failed")],
  );
  const row = result.rows[0];
  if (!row || row.was_online === row.online) return null;
  return row.online ? "online" : "offline";
}

export async function setAttention(
  client: pg.ClientBase,
  schema: string,
  connector: string,
  reason: string | null,
): Promise<void> {
  await client.query(
    `update ${quoteIdentifier(schema)}.connectors set attention = $2, updated_at = now() where connector = $1`,
    [connector, reason],
  );
  if (reason) await appendAudit(client, schema, [{ event: "attention", connector, error: reason }]);
}

/**
 * Holds the connector for an operator with this reason unless it already is held for it: a probe
 * that keeps finding the same problem writes one audit row, not one per probe. True when set now.
 */
export async function holdForAttention(
  client: pg.ClientBase | pg.Pool,
  schema: string,
  connector: string,
  reason: string,
): Promise<boolean> {
  const s = quoteIdentifier(schema);
  const held = await client.query(
    `with held as (
       update ${s}.connectors set attention = $2, updated_at = now()
        where connector = $1 and attention is distinct from $2 returning connector)
     insert into ${s}.audit (event, connector, error) select 'attention', connector, $2 from held
     returning connector`,
    [connector, reason],
  );
  return (held.rowCount ?? 0) > 0;
}

/**
 * Lifts the attention hold of these connectors, audited as 'resumed' with the reason it had. A
 * process starting with a (possibly corrected) configuration re-checks the partner: if the cause
 * remains, the first attempt sets attention again, without spending an attempt.
 */
export async function clearAttention(client: Queryable, schema: string, names: readonly string[]): Promise<string[]> {
  const s = quoteIdentifier(schema);
  const result = await client.query<{ connector: string }>(
    `with old as (
       select connector, attention from ${s}.connectors
        where connector = any($1::text[]) and attention is not null for update),
     cleared as (
       update ${s}.connectors c set attention = null, updated_at = now()
         from old where c.connector = old.connector
       returning c.connector, old.attention),
     audited as (
       insert into ${s}.audit (event, connector, detail)
       select 'resumed', connector, jsonb_build_object('clearedAttention', attention) from cleared)
     select connector from cleared`,
    [names],
  );
  return result.rows.map((r) => r.connector);
}
