// Partner confirmations: a delivery found by its correlation id or token becomes 'confirmed', with
// an audit row and the stored inbound event, all in one transaction.
import type pg from "pg";
import { appendAudit } from "./audit.js";
import type { DeliveryState } from "./delivery-queries.js";
import { recountRuns } from "./run-members.js";
import { quoteIdentifier } from "./sql-identifier.js";

export interface InboundConfirmation {
  readonly connector: string;
  /** What the partner quoted: the delivery's correlation id or its idempotency token. */
  readonly correlation: string;
  /** The callback's JSON document, stored as received. */
  readonly body: Readonly<Record<string, unknown>>;
  /** How the callback was authenticated ('hmac' | 'bearer'), for the audit trail. */
  readonly via: string;
}

export type ConfirmationResult =
  | {
      readonly kind: "confirmed";
      readonly deliveryId: string;
      readonly token: string;
      readonly correlationId: string;
      readonly previousState: DeliveryState;
      /** Already confirmed by an earlier callback: the event is stored, no second audit row. */
      readonly duplicate: boolean;
      readonly inboundEventId: string;
    }
  | { readonly kind: "unknown" };

/**
 * Any state may become 'confirmed': the partner says it has applied the change, so a delivery
 * still waiting for a retry (a lost acknowledgement) or one being sent must not be sent again,
 * and the workers only touch deliveries in the states they set themselves. An unknown
 * correlation id stores nothing.
 */
export async function confirmDelivery(
  client: pg.ClientBase,
  schema: string,
  confirmation: InboundConfirmation,
): Promise<ConfirmationResult> {
  const s = quoteIdentifier(schema);
  await client.query("begin");
  try {
    const lookup = () =>
      client.query<{
        id: string;
        token: string;
        correlation_id: string;
        state: DeliveryState;
        batch_id: string | null;
      }>(
        `select id, token, correlation_id, state, batch_id from ${s}.deliveries
          where connector = $1 and (token = $2 or correlation_id = $2)
          order by id
          limit 1`,
        [confirmation.connector, confirmation.correlation],
      );
    const seen = (await lookup()).rows[0];
    if (!seen) {
      await client.query("rollback");
      return { kind: "unknown" };
    }
    // Its batch first (a worker recording the batch's outcome waits), then the delivery itself;
    // then read again what they say now.
    if (seen.batch_id !== null) {
      await client.query(`select id from ${s}.batches where id = $1 for update`, [seen.batch_id]);
    }
    await client.query(`select id from ${s}.delivery_items where id = $1 for update`, [seen.id]);
    const delivery = (await lookup()).rows[0] ?? seen;
    const duplicate = delivery.state === "confirmed";
    if (!duplicate) {
      // The delivery takes a state of its own, keeping what its batch said of it so far.
      await client.query(
        `update ${s}.delivery_items i set own_state = true, state = 'confirmed', confirmed_at = now(), updated_at = now(),
                attempts = v.attempts, batch_id = v.batch_id, last_error = v.last_error, sent_at = v.sent_at,
                next_attempt_at = v.next_attempt_at
           from ${s}.deliveries v
          where v.id = i.id and i.id = $1`,
        [delivery.id],
      );
      if (delivery.batch_id !== null) await recountRuns(client, schema, [delivery.batch_id]);
    }
    const event = await client.query<{ id: string }>(
      `insert into ${s}.inbound_events (connector, delivery_id, correlation, body) values ($1, $2, $3, $4::jsonb)
       returning id`,
      [confirmation.connector, delivery.id, confirmation.correlation, JSON.stringify(confirmation.body)],
    );
    const inboundEventId = event.rows[0]?.id ?? "";
    if (!duplicate) {
      await appendAudit(client, schema, [
        {
          event: "confirmed",
          deliveryId: delivery.id,
          token: delivery.token,
          connector: confirmation.connector,
          detail: { previousState: delivery.state, inboundEvent: inboundEventId, via: confirmation.via },
        },
      ]);
    }
    await client.query("commit");
    return {
      kind: "confirmed",
      deliveryId: delivery.id,
      token: delivery.token,
      correlationId: delivery.correlation_id,
      previousState: delivery.state,
      duplicate,
      inboundEventId,
    };
  } catch (error) {
    await client.query("rollback").catch(() => undefined);
    throw error;
  }
}
