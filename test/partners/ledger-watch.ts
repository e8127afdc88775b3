// Reads what the ledger says about one connector (delivery states, connector row, audit hops) and waits on it.
import { waitFor } from "../support/capture-fixture.js";
import type { TestDatabase } from "../support/database.js";

export type DeliveryState = "pending" | "sending" | "sent" | "confirmed" | "retrying" | "dead";

export interface LedgerDelivery {
  readonly id: string;
  readonly token: string;
  readonly correlationId: string;
  readonly orderingKey: string;
  readonly state: DeliveryState;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly partnerReference: string | null;
}

export interface ConnectorRow {
  readonly online: boolean;
  readonly heartbeatFailures: number;
  readonly attention: string | null;
  readonly paused: boolean;
}

export interface AuditHop {
  readonly event: string;
  readonly deliveryId: string | null;
  readonly token: string | null;
  readonly attempt: number | null;
  readonly error: string | null;
  readonly detail: Record<string, unknown> | null;
  readonly at: Date;
}

/** Every delivery of a connector, in id order. */
export async function deliveriesOf(db: TestDatabase, connector: string): Promise<LedgerDelivery[]> {
  const result = await db.query<{
    id: string;
    token: string;
    correlation_id: string;
    ordering_key: string;
    state: DeliveryState;
    attempts: number;
    last_error: string | null;
    partner_reference: string | null;
  }>(
    `select id, token, correlation_id, ordering_key, state, attempts, last_error, partner_reference
       from ess.deliveries where connector = $1 order by id`,
    [connector],
  );
  return result.rows.map((r) => ({
    id: r.id,
    token: r.token,
    correlationId: r.correlation_id,
    orderingKey: r.ordering_key,
    state: r.state,
    attempts: r.attempts,
    lastError: r.last_error,
    partnerReference: r.partner_reference,
  }));
}

/** The connector's row in ess.connectors (created when an engine starts). */
export async function connectorRow(db: TestDatabase, connector: string): Promise<ConnectorRow | undefined> {
  const result = await db.query<{
    online: boolean;
    heartbeat_failures: number;
    attention: string | null;
    paused: boolean;
  }>("select online, heartbeat_failures, attention, paused from ess.connectors where connector = $1", [connector]);
  const row = result.rows[0];
  return row
    ? { online: row.online, heartbeatFailures: row.heartbeat_failures, attention: row.attention, paused: row.paused }
    : undefined;
}

/** The audit trail of a connector, oldest first, optionally one event only. */
export async function auditOf(db: TestDatabase, connector: string, event?: string): Promise<AuditHop[]> {
  const result = await db.query<{
    event: string;
    delivery_id: string | null;
    token: string | null;
    attempt: number | null;
    error: string | null;
    detail: Record<string, unknown> | null;
    at: Date;
  }>(
    `select event, delivery_id, token, attempt, error, detail, at from ess.audit
      where connector = $1 and ($2::text is null or event = $2) order by id`,
    [connector, event ?? null],
  );
  return result.rows.map((r) => ({
    event: r.event,
    deliveryId: r.delivery_id,
    token: r.token,
    attempt: r.attempt,
    error: r.error,
    detail: r.detail,
    at: r.at,
  }));
}

/**
 * The hops of one delivery, oldest first: those that name it, and those of the batches whose run
 * covered it (one row per batch hop names the run's first and last delivery id).
 */
export async function hopsOf(db: TestDatabase, connector: string, deliveryId: string): Promise<AuditHop[]> {
  const id = BigInt(deliveryId);
  return (await auditOf(db, connector)).filter((h) => {
    if (h.deliveryId !== null) return h.deliveryId === deliveryId;
    const first = h.detail?.firstId;
    const last = h.detail?.lastId;
    return typeof first === "string" && typeof last === "string" && BigInt(first) <= id && id <= BigInt(last);
  });
}

/** Waits until the connector has exactly `count` deliveries and all of them are sent. */
export async function waitForAllSent(db: TestDatabase, connector: string, count: number, timeoutMs = 30_000) {
  let last: LedgerDelivery[] = [];
  try {
    await waitFor(
      `${count} ${connector} deliveries sent`,
      async () => {
        last = await deliveriesOf(db, connector);
        return last.length === count && last.every((d) => d.state === "sent");
      },
      timeoutMs,
    );
  } catch (error) {
    const states = last.map((d) => `${d.orderingKey}:${d.state}${d.lastError ? ` (${d.lastError})` : ""}`);
    throw new Error(`${(error as Error).message}; the ledger holds ${last.length}: ${states.join(", ")}`);
  }
  return last;
}

/** Waits until `check` holds for the connector's row. */
export async function waitForConnector(
  db: TestDatabase,
  connector: string,
  what: string,
  check: (row: ConnectorRow) => boolean,
  timeoutMs = 15_000,
): Promise<ConnectorRow> {
  let last: ConnectorRow | undefined;
  try {
    await waitFor(
      `${connector} ${what}`,
      async () => {
        last = await connectorRow(db, connector);
        return last !== undefined && check(last);
      },
      timeoutMs,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; the connector row is ${JSON.stringify(last)}`);
  }
  return last as ConnectorRow;
}
