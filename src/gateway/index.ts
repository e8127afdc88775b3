// The Gateway room: application events in, receipts out.
export type { ApplicationEvent, EventPayload, EventValue } from "./event-message.js";
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
export type { EventDelivery } from "./receipt-query.js";
export { type ReceiptState, receiptState } from "./receipt-state.js";
