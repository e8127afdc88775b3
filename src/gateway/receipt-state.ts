// One state for an event from the states of the deliveries made from it (one per matching mapping target).
import type { DeliveryState } from "../ledger/delivery-queries.js";

/** What an application sees of its event. */
export type ReceiptState = "pending" | "sent" | "retrying" | "dead" | "confirmed";

/**
 * An event sent to several partners is only as far as its slowest delivery, and a problem with
 * any of them is what the application must hear about first:
 * - dead: some delivery went dead (until it is replayed)
 * - retrying: some delivery failed and waits for its next attempt
 * - pending: not captured yet, matched no mapping, or some delivery is still queued or on its way
 * - sent: every delivery reached its partner, some not yet confirmed
 * - confirmed: every partner confirmed it
 */
export function receiptState(deliveries: readonly DeliveryState[]): ReceiptState {
  if (deliveries.length === 0) return "pending";
  if (deliveries.includes("dead")) return "dead";
  if (deliveries.includes("retrying")) return "retrying";
  if (deliveries.includes("pending") || deliveries.includes("sending")) return "pending";
  if (deliveries.includes("sent")) return "sent";
  return "confirmed";
}
