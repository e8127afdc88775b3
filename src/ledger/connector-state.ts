// Per-connector operator and health state in the ledger: pause, online/offline, attention, batch sequence.
import { sql } from "kysely";
import type pg from "pg";
import { appendAudit } from "./audit.js";
import { ledgerDb, ledgerTable } from "./ledger-db.js";
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

/** The ledger's clock: times compared with what the ledger stamps (audit rows) come from it. */
export async function ledgerNow(client: Queryable, schema: string): Promise<Date> {
  const result = await sql<{ now: Date }>`select now() as now`.execute(ledgerDb(client, schema));
  return result.rows[0]?.now ?? new Date();
}

export async function ensureConnectorRows(client: Queryable, schema: string, names: readonly string[]): Promise<void> {
  await sql`insert into ${ledgerTable(schema, "connectors")} (connector) select unnest(${names}::text[])
             on conflict do nothing`.execute(ledgerDb(client, schema));
}

export async function readConnectorStates(client: Queryable, schema: string): Promise<Map<string, ConnectorState>> {
  const rows = await ledgerDb(client, schema)
    .selectFrom("connectors")
    .select([
      "connector",
      "paused",
      "online",
      "heartbeat_failures",
      "attention",
      "last_success_at",
      "last_heartbeat_at",
    ])
    .execute();
  return new Map(
    rows.map((r) => [
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
  await ensureConnectorRows(client, schema, [connector]);
  const result = await ledgerDb(client, schema)
    .updateTable("connectors")
    .set({ paused, updated_at: sql<Date>`now()` })
    .where("connector", "=", connector)
    .where("paused", "<>", paused)
    .executeTakeFirst();
  const changed = result.numUpdatedRows > 0n;
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
  const t = (table: "connectors" | "audit" | "delivery_items" | "batches") => ledgerTable(schema, table);
  const failure = ok ? null : (error ?? "heartbeat failed");
  // One statement, so the state change and its audit row cannot part.
  const result = await sql<{ was_online: boolean; online: boolean }>`
    with old as (select online as was_online from ${t("connectors")} where connector = ${connector} for update),
     changed as (
       update ${t("connectors")} c set
         heartbeat_failures = case when ${ok}::boolean then 0 else c.heartbeat_failures + 1 end,
         online = case when ${ok}::boolean then true when c.heartbeat_failures + 1 >= ${offlineAfter}::integer then false
                       else c.online end,
         last_heartbeat_at = case when ${ok}::boolean then now() else c.last_heartbeat_at end,
         updated_at = now()
       from old where c.connector = ${connector}
       returning old.was_online, c.online),
     audited as (
       insert into ${t("audit")} (event, connector, error)
       select case when online then 'online' else 'offline' end, ${connector}, ${failure}::text
         from changed where was_online <> online),
     due_deliveries as (
       update ${t("delivery_items")} set next_attempt_at = now()
        where connector = ${connector} and own_state and state = 'retrying' and batch_id is null
          and next_attempt_at > now() and exists (select 1 from changed where online and not was_online)),
     due_batches as (
       update ${t("batches")} set next_attempt_at = now()
        where connector = ${connector} and state = 'retrying' and next_attempt_at > now()
          and exists (select 1 from changed where online and not was_online))
     select was_online, online from changed`.execute(ledgerDb(client, schema));
  const row = result.rows[0];
  if (!row || row.was_online === row.online) return null;
  return row.online ? "online" : "offline";
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
  const connectors = ledgerTable(schema, "connectors");
  const audit = ledgerTable(schema, "audit");
  const held = await sql<{ connector: string }>`
    with held as (
      update ${connectors} set attention = ${reason}, updated_at = now()
       where connector = ${connector} and attention is distinct from ${reason} returning connector)
    insert into ${audit} (event, connector, error) select 'attention', connector, ${reason} from held
    returning connector`.execute(ledgerDb(client, schema));
  return held.rows.length > 0;
}

/**
 * Lifts the attention hold of these connectors, audited as 'resumed' with the reason it had. A
 * process starting with a (possibly corrected) configuration re-checks the partner: if the cause
 * remains, the first attempt sets attention again, without spending an attempt.
 */
export async function clearAttention(
  client: Queryable,
  schema: string,
  names: readonly string[],
  /** Leave a hold set at or after this time (the ledger's clock): it is a finding of the re-check itself. */
  foundBefore?: Date,
): Promise<string[]> {
  const connectors = ledgerTable(schema, "connectors");
  const audit = ledgerTable(schema, "audit");
  const result = await sql<{ connector: string }>`
    with old as (
       select c.connector, c.attention from ${connectors} c
        where c.connector = any(${names}::text[]) and c.attention is not null
          and (${foundBefore ?? null}::timestamptz is null or not exists (
                select 1 from ${audit} a
                 where a.event = 'attention' and a.connector = c.connector and a.at >= ${foundBefore ?? null}::timestamptz))
          for update of c),
     cleared as (
       update ${connectors} c set attention = null, updated_at = now()
         from old where c.connector = old.connector
       returning c.connector, old.attention),
     audited as (
       insert into ${ledgerTable(schema, "audit")} (event, connector, detail)
       select 'resumed', connector, jsonb_build_object('clearedAttention', attention) from cleared)
     select connector from cleared`.execute(ledgerDb(client, schema));
  return result.rows.map((r) => r.connector);
}
