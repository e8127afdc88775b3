// POST /events and GET /receipts/<id>: application events from services that cannot reach the
// database, authenticated like partner callbacks (ess.yaml `events:`), sent as Gateway.send() sends them.
import type { IncomingMessage } from "node:http";
import type { InboundAuth } from "../config/types.js";
import type { ApplicationEvent } from "../gateway/event-message.js";
import type { Gateway } from "../gateway/gateway.js";
import { GatewayDatabaseError, InvalidEventError, InvalidReceiptIdError } from "../gateway/gateway-errors.js";
import {
  authenticateInbound,
  inboundAuthMessage,
  presentedCredentials,
  SignatureReplayGuard,
  toleranceOf,
} from "./inbound-auth.js";
import type { InboundReply } from "./inbound-lane.js";
import type { Logger } from "./logger.js";
import { BodyTooLargeError, readRequestBody } from "./request-body.js";

export interface EventIntakeOptions {
  readonly auth: InboundAuth | undefined;
  readonly gateway: Gateway;
  readonly logger: Logger;
  readonly maxBodyBytes?: number;
}

const EVENT_BODY_LIMIT = 1024 * 1024;

export class EventIntake {
  /** POSTs only: repeating a signed GET of a receipt changes nothing. */
  private readonly replay = new SignatureReplayGuard();

  constructor(private readonly options: EventIntakeOptions) {}

  /** POST /events with { topic, payload, options? }: 202 and the receipt id. */
  async send(request: IncomingMessage): Promise<InboundReply> {
    const log = this.options.logger.child({ endpoint: "/events", remote: request.socket.remoteAddress });
    let body: Buffer;
    try {
      body = await readRequestBody(request, this.options.maxBodyBytes ?? EVENT_BODY_LIMIT);
    } catch (error) {
      if (!(error instanceof BodyTooLargeError)) throw error;
      return refuse(log, 413, error.message, { connection: "close" });
    }
    const denied = this.authenticate(request, body, this.replay);
    if (denied) return refuse(log, denied.status, denied.error, denied.headers);
    let document: unknown;
    try {
      document = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
    } catch {
      // The parse failure is the answer: a 400 naming the problem, nothing stored.
      return refuse(log, 400, "the body is not JSON text");
    }
    if (document === null || typeof document !== "object" || Array.isArray(document)) {
      return refuse(log, 400, "the body must be a JSON object { topic, payload, options? }");
    }
    const { topic, payload, options, ...rest } = document as Record<string, unknown>;
    const extra = Object.keys(rest);
    if (extra.length > 0)
      return refuse(log, 400, `unknown field(s) ${extra.join(", ")}: expected topic, payload, options`);
    try {
      const receipt = await this.options.gateway.send({
        topic,
        payload,
        ...(options !== undefined ? { options } : {}),
      } as ApplicationEvent);
      log.info({ receiptId: receipt.id, topic: receipt.topic }, "event accepted");
      return { status: 202, body: { receiptId: receipt.id, topic: receipt.topic, state: receipt.state } };
    } catch (error) {
      return this.failure(log, error);
    }
  }

  /** GET /receipts/<id>: the event's state and its deliveries. */
  async receipt(id: string, request: IncomingMessage): Promise<InboundReply> {
    const log = this.options.logger.child({ endpoint: "/receipts", remote: request.socket.remoteAddress });
    const denied = this.authenticate(request, Buffer.alloc(0));
    if (denied) return refuse(log, denied.status, denied.error, denied.headers);
    try {
      const detail = await this.options.gateway.receiptDetail(id);
      return {
        status: 200,
        body: {
          receiptId: detail.id,
          state: detail.state,
          captured: detail.captured,
          commitTime: detail.commitTime,
          deliveries: detail.deliveries.map((d) => ({
            connector: d.connector,
            state: d.state,
            attempts: d.attempts,
            correlationId: d.correlationId,
            lastError: d.lastError,
            sentAt: d.sentAt,
            confirmedAt: d.confirmedAt,
          })),
        },
      };
    } catch (error) {
      return this.failure(log, error);
    }
  }

  /** A GET is signed over the empty body; a bearer token works for both. */
  private authenticate(
    request: IncomingMessage,
    body: Buffer,
    replay?: SignatureReplayGuard,
  ): { status: number; error: string; headers?: Record<string, string> } | undefined {
    const auth = this.options.auth;
    if (!auth) return { status: 403, error: "events are not enabled: set events.hmacSecret or events.bearerToken" };
    const verdict = authenticateInbound(auth, presentedCredentials(request), body, replay ? { replay } : {});
    if (verdict.ok) return undefined;
    return {
      status: 401,
      error: inboundAuthMessage(verdict.reason, toleranceOf(auth)),
      ...(auth.bearerToken !== undefined ? { headers: { "www-authenticate": 'Bearer realm="ess-events"' } } : {}),
    };
  }

  private failure(log: Logger, error: unknown): InboundReply {
    if (error instanceof InvalidEventError || error instanceof InvalidReceiptIdError) {
      return refuse(log, 400, error.message);
    }
    if (error instanceof GatewayDatabaseError) {
      log.error({ err: error, failure: error.failure }, "event endpoint: database failure");
      return {
        status: error.retriable ? 503 : 500,
        body: { error: `database ${error.failure}; see the ESS log`, retriable: error.retriable },
        ...(error.retriable ? { headers: { "retry-after": "5" } } : {}),
      };
    }
    throw error;
  }
}

function refuse(
  log: Logger,
  status: number,
  error: string,
  headers: Readonly<Record<string, string>> = {},
): InboundReply {
  log.warn({ status }, `event request refused: ${error}`);
  return { status, body: { error }, headers };
}
