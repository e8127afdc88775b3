// Partner answers: a delivery found by its correlation id or token becomes 'confirmed' (accepted)
// or 'dead' with the partner's reason (rejected); every answer is stored as an inbound event, an
// answer naming no delivery too, and announced with NOTIFY ess_inbound when its transaction commits.
import { sql } from "kysely";
import type pg from "pg";
import { appendAudit } from "./audit.js";
import { ledgerDb } from "./ledger-db.js";
import type { AnswerStatus, DeliveryState } from "./ledger-schema.js";
import { recountRuns } from "./run-members.js";
import { storableJson, storableText } from "./storable-text.js";
import { sharedTokenPart, tokenPartOf } from "./token-lookup.js";

export type { AnswerStatus } from "./ledger-schema.js";

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
  const db = ledgerDb(client, schema);
  // What is neither a token nor a correlation id names no delivery: it is never looked up.
  const part = sharedTokenPart(answer.correlation);
  const lookup = async () =>
    part === null
      ? undefined
      : await db
          .selectFrom("deliveries")
          .select(["id", "token", "correlation_id", "state", "receipt_id", "batch_id"])
          .where("connector", "=", answer.connector)
          .where(tokenPartOf(sql.ref("token")), "=", part)
          .where((eb) => eb.or([eb("token", "=", answer.correlation), eb("correlation_id", "=", answer.correlation)]))
          .orderBy("id")
          .limit(1)
          .executeTakeFirst();
  const seen = await lookup();
  if (seen) {
    // Its batch first (a worker recording the batch's outcome waits), then the delivery itself;
    // then read again what they say now.
    if (seen.batch_id !== null) {
      await db.selectFrom("batches").select("id").where("id", "=", seen.batch_id).forUpdate().execute();
    }
    await db.selectFrom("delivery_items").select("id").where("id", "=", seen.id).forUpdate().execute();
  }
  const delivery = seen ? await lookup() : undefined;
  const event = await db
    .insertInto("inbound_events")
    .values({
      connector: answer.connector,
      delivery_id: delivery?.id ?? null,
      correlation: answer.correlation,
      body: JSON.stringify(answer.body),
      status: answer.status,
      reference: answer.reference,
      message: answer.message,
      via: answer.via,
    })
    .returning("id")
    .executeTakeFirst();
  const inboundEventId = event?.id ?? "";
  const notice = JSON.stringify({
    schema,
    connector: answer.connector,
    correlationId: answer.correlation,
    status: answer.status,
    deliveryId: delivery?.id ?? null,
    reference: answer.reference,
    inboundEventId,
  });
  await sql`select pg_notify(${INBOUND_CHANNEL}, ${notice})`.execute(db);
  if (!delivery) return { kind: "unmatched", inboundEventId };

  const state = answer.status === "accepted" ? "confirmed" : "dead";
  const duplicate = delivery.state === state;
  if (!duplicate) {
    // The delivery takes a state of its own, keeping what its batch said of it so far.
    await db
      .updateTable("delivery_items as i")
      .from("deliveries as v")
      .set((eb) => ({
        own_state: true,
        attempts: eb.ref("v.attempts"),
        batch_id: eb.ref("v.batch_id"),
        last_error: eb.ref("v.last_error"),
        sent_at: eb.ref("v.sent_at"),
        next_attempt_at: eb.ref("v.next_attempt_at"),
        partner_reference: eb.ref("v.partner_reference"),
        first_attempt_at: eb.ref("v.first_attempt_at"),
      }))
      .whereRef("v.id", "=", "i.id")
      .where("i.id", "=", delivery.id)
      .where("i.own_state", "=", false)
      .execute();
    const reference = sql<string | null>`coalesce(${answer.reference}::text, partner_reference)`;
    await db
      .updateTable("delivery_items")
      .set(
        state === "confirmed"
          ? {
              state: "confirmed",
              confirmed_at: sql<Date>`now()`,
              updated_at: sql<Date>`now()`,
              partner_reference: reference,
            }
          : {
              state: "dead",
              last_error: rejectionReason(answer),
              updated_at: sql<Date>`now()`,
              partner_reference: reference,
            },
      )
      .where("id", "=", delivery.id)
      .execute();
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

/**
 * The answer as the ledger can keep it: a partner's text may hold what PostgreSQL cannot store
 * (NUL, a lone surrogate). A pulled file or a polled answer cannot be sent back, and refused it
 * would be read again every round (with a file's other answers); a callback is refused instead
 * (HTTP 400), so that the partner hears of it.
 */
export function storableAnswer(answer: PartnerAnswer): PartnerAnswer {
  return {
    ...answer,
    correlation: storableText(answer.correlation),
    reference: answer.reference === null ? null : storableText(answer.reference),
    message: answer.message === null ? null : storableText(answer.message),
    body: storableJson(answer.body) as Record<string, unknown>,
    via: storableText(answer.via),
  };
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
  const row = await ledgerDb(client, schema)
    .insertInto("inbound_events")
    .values({
      connector,
      correlation: "",
      body: JSON.stringify(storableJson(body)),
      message: storableText(reason),
      via: storableText(via),
    })
    .returning("id")
    .executeTakeFirst();
  return row?.id ?? "";
}
