// The Gateway room: application events in, receipts out.

export type { DeliveryListing } from "../ledger/delivery-queries.js";
export { INBOUND_CHANNEL } from "../ledger/inbound.js";
export type { EventDelivery } from "../ledger/receipt-query.js";
export type { ApplicationEvent, EventOptions, EventPayload, EventValue } from "./event-message.js";
export type { GatewayOptions, Receipt, ReceiptDetail, SendOptions } from "./gateway.js";
export { Gateway } from "./gateway.js";
export {
  type DatabaseFailure,
  GatewayDatabaseError,
  GatewayError,
  GatewaySetupError,
  InvalidEventError,
  InvalidReceiptIdError,
} from "./gateway-errors.js";
export { type ReceiptState, receiptState } from "./receipt-state.js";
export { RECEIPTS_CHANNEL, type ReceiptUpdate, type WatchOptions } from "./receipt-watch.js";
