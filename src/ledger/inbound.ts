// Partner answers: a delivery found by its correlation id or token becomes 'confirmed' (accepted)
// or 'dead' with the partner's reason (rejected); every answer is stored as an inbound event, an
// answer naming no delivery too, and announced with NOTIFY ess_inbound when its transaction commits.
import type pg from "pg";
import { quoteIdentifier } from "../sql/sql-identifier.js";
import { appendAudit } from "./audit.js";
import type { DeliveryState } from "./delivery-queries.js";
import { recountRuns } from "./run-members.js";

export type AnswerStatus = "accepted" | "rejected";

/** The channel applications LISTEN on to hear partners' answers. */
export const INBOUND_CHANNEL = "ess_inbound";

export interface PartnerAnswer {
  readonly connector: string;
  /** What the partner quoted: the delivery's correlation id or its idempotency token. */
  readonly correlation: string;
  readonly status: AnswerStatus;
  /** The partner's own reference for the item (a confirmation number), if it gave one. */
  readonly reference: string | null;
  /** The partner's message; for a rejection, its reason. */
  readonly message: string | null;
  /** The answer as received (a callback's JSON, a parsed line of an answer file), stored as is. */
  readonly body: Readonly<Record<string, unknown>>;
  /** Where it came from, for the audit: 'hmac' | 'bearer' (callbacks), 'file:<name>', 'poll'. */
  readonly via: string;
}

export interface AnsweredDelivery {
  readonly deliveryId: string;
  readonly token: string;
  readonly correlationId: string;
  readonly previousState: DeliveryState;
  readonly state: "confirmed" | "dead";
  /** The delivery was already in that state: the answer is stored, no second audit row. */
  readonly duplicate: boolean;
  readonly receiptId: string | null;
}

export type AnswerResult =
  | ({ readonly kind: "applied"; readonly inboundEventId: string } & AnsweredDelivery)
  | { readonly kind: "unmatched"; readonly inboundEventId: string };

/**
 * Runs inside the caller's transaction (so a pulled file's answers, its record and an
 * application table write commit together). Any state may take the answer: the partner has the
 * last word on a delivery still waiting for a retry (a lost acknowledgement) or being sent, and
 * the workers only move deliveries in the states they set themselves.
 */
export async function applyAnswerInTransaction(
  client: pg.ClientBase,
  schema: string,
  answer: PartnerAnswer,
): Promise<AnswerResult> {
  const s = quoteIdentifier(schema);
  const lookup = () =>
    client.query<{
      id: string;
      token: string;
      correlation_id: string;
      state: DeliveryState;
      receipt_id: string | null;
      batch_id: string | null;
    }>(
      `select id, token, correlation_id, state, receipt_id, batch_id from ${s}.deliveries
        where connector = $1 and (token = $2 or correlation_id = $2)
        order by id
        limit 1`,
      [answer.connector, answer.correlation],
    );
  const seen = (await lookup()).rows[0];
  if (seen) {
    // Its batch first (a worker recording the batch's outcome waits), then the delivery itself;
    // then read again what they say now.
    if (seen.batch_id !== null) {
      await client.query(`select id from ${s}.batches where id = $1 for update`, [seen.batch_id]);
    }
    await client.query(`select id from ${s}.delivery_items where id = $1 for update`, [seen.id]);
  }
  const found = seen ? await lookup() : { rows: [] };
  const delivery = found.rows[0];
  const event = await client.query<{ id: string }>(
    `insert into ${s}.inbound_events (connector, delivery_id, correlation, body, status, reference, message, via)
     values ($1, $2, $3, $4::jsonb, $5, $6, $7, $8)
     returning id`,
    [
      answer.connector,
      delivery?.id ?? null,
      answer.correlation,
      JSON.stringify(answer.body),
      answer.status,
      answer.reference,
      answer.message,
      answer.via,
    ],
  );
  const inboundEventId = event.rows[0]?.id ?? "";
  await client.query("select pg_notify($1, $2)", [
    INBOUND_CHANNEL,
    JSON.stringify({
      schema,
      connector: answer.connector,
      correlationId: answer.correlation,
      status: answer.status,
      deliveryId: delivery?.id ?? null,
      reference: answer.reference,
      inboundEventId,
    }),
  ]);
  if (!delivery) return { kind: "unmatched", inboundEventId };

  const state = answer.status === "accepted" ? "confirmed" : "dead";
  const duplicate = delivery.state === state;
  if (!duplicate) {
    // The delivery takes a state of its own, keeping what its batch said of it so far.
    await client.query(
      `update ${s}.delivery_items i set own_state = true, attempts = v.attempts, batch_id = v.batch_id,
              last_error = v.last_error, sent_at = v.sent_at, next_attempt_at = v.next_attempt_at,
              partner_reference = v.partner_reference, first_attempt_at = v.first_attempt_at
         from ${s}.deliveries v
        where v.id = i.id and i.id = $1 and not i.own_state`,
      [delivery.id],
    );
    if (state === "confirmed") {
      await client.query(
        `update ${s}.delivery_items set state = 'confirmed', confirmed_at = now(), updated_at = now(),
                partner_reference = coalesce($2, partner_reference)
          where id = $1`,
        [delivery.id, answer.reference],
      );
    } else {
      await client.query(
        `update ${s}.delivery_items set state = 'dead', last_error = $2, updated_at = now(),
                partner_reference = coalesce($3, partner_reference)
          where id = $1`,
        [delivery.id, rejectionReason(answer), answer.reference],
      );
    }
    if (delivery.batch_id !== null) await recountRuns(client, schema, [delivery.batch_id]);
    await appendAudit(client, schema, [
      {
        event: state,
        deliveryId: delivery.id,
        token: delivery.token,
        connector: answer.connector,
        ...(state === "dead" ? { error: rejectionReason(answer) } : {}),
        detail: {
          previousState: delivery.state,
          inboundEvent: inboundEventId,
          via: answer.via,
          status: answer.status,
          reference: answer.reference,
        },
      },
    ]);
  }
  return {
    kind: "applied",
    inboundEventId,
    deliveryId: delivery.id,
    token: delivery.token,
    correlationId: delivery.correlation_id,
    previousState: delivery.state,
    state,
    duplicate,
    receiptId: delivery.receipt_id,
  };
}

/** One answer in a transaction of its own (a callback). */
export async function applyAnswer(
  client: pg.ClientBase,
  schema: string,
  answer: PartnerAnswer,
  alsoInTransaction?: (result: AnswerResult) => Promise<void>,
): Promise<AnswerResult> {
  await client.query("begin");
  try {
    const result = await applyAnswerInTransaction(client, schema, answer);
    await alsoInTransaction?.(result);
    await client.query("commit");
    return result;
  } catch (error) {
    await client.query("rollback").catch(() => undefined);
    throw error;
  }
}

/** The dead letter's reason: the partner's own words, marked as the partner's. */
export function rejectionReason(answer: Pick<PartnerAnswer, "message" | "reference" | "via">): string {
  const ref = answer.reference ? ` (reference ${answer.reference})` : "";
  return `rejected by the partner${ref}: ${answer.message?.trim() || "no reason given"}`;
}

/** A line of an answer file that could not be read: kept with its reason for an operator, never dropped. */
export async function storeUnreadableAnswer(
  client: pg.ClientBase,
  schema: string,
  connector: string,
  body: Readonly<Record<string, unknown>>,
  reason: string,
  via: string,
): Promise<string> {
  const result = await client.query<{ id: string }>(
    `insert into ${quoteIdentifier(schema)}.inbound_events (connector, correlation, body, message, via)
     values ($1, '', $2::jsonb, $3, $4) returning id`,
    [connector, JSON.stringify(body), reason, via],
  );
  return result.rows[0]?.id ?? "";
}
