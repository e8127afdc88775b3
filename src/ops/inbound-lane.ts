// POST /inbound/<connector> (SPEC §7): authenticates a partner callback and applies its answer to
// the delivery it names (accepted: confirmed; rejected: dead with the partner's reason). A
// callback refused for its credentials or its form is answered with the reason and stored nowhere;
// an authenticated answer naming no known delivery is stored for an operator and answered 404.
import type { IncomingMessage } from "node:http";
import type pg from "pg";
import type { ConnectorConfig } from "../config/types.js";
import { type AnswerResult, applyAnswer } from "../ledger/inbound.js";
import { classifyPgError } from "../sql/pg-error.js";
import {
  authenticateInbound,
  inboundAuthMessage,
  presentedCredentials,
  SignatureReplayGuard,
  toleranceOf,
} from "./inbound-auth.js";
import { parseCallback } from "./inbound-callback.js";
import type { Logger } from "./logger.js";
import type { EssMetrics, InboundOutcome } from "./metrics.js";
import { BodyTooLargeError, readRequestBody } from "./request-body.js";

export const DEFAULT_INBOUND_BODY_LIMIT = 1024 * 1024;

export interface InboundReply {
  readonly status: number;
  readonly body: Readonly<Record<string, unknown>>;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface InboundLaneOptions {
  readonly connectors: readonly ConnectorConfig[];
  readonly pool: pg.Pool;
  readonly schema: string;
  readonly logger: Logger;
  readonly metrics?: EssMetrics;
  readonly maxBodyBytes?: number;
  /** More work in the answer's transaction (an application table write). */
  readonly alsoInTransaction?: (
    client: pg.ClientBase,
    connector: ConnectorConfig,
    answer: { status: "accepted" | "rejected"; reference: string | null; message: string | null; correlation: string },
    result: AnswerResult,
  ) => Promise<void>;
}

export class InboundLane {
  private readonly connectors: ReadonlyMap<string, ConnectorConfig>;
  private readonly replay = new SignatureReplayGuard();

  constructor(private readonly options: InboundLaneOptions) {
    this.connectors = new Map(options.connectors.map((c) => [c.name, c]));
  }

  async receive(connectorName: string, request: IncomingMessage): Promise<InboundReply> {
    const { logger } = this.options;
    const connector = this.connectors.get(connectorName);
    const log = logger.child({ connector: connectorName, remote: request.socket.remoteAddress });
    if (!connector) return this.reject(log, connectorName, "unknown_connector", 404, "no such connector");
    const auth = connector.inbound;
    if (!auth) {
      return this.reject(log, connectorName, "forbidden", 403, "this connector accepts no inbound callbacks");
    }
    let body: Buffer;
    try {
      body = await readRequestBody(request, this.options.maxBodyBytes ?? DEFAULT_INBOUND_BODY_LIMIT);
    } catch (error) {
      if (!(error instanceof BodyTooLargeError)) throw error;
      return this.reject(log, connectorName, "too_large", 413, error.message, { connection: "close" });
    }
    const verdict = authenticateInbound(auth, presentedCredentials(request), body, { replay: this.replay });
    if (!verdict.ok) {
      const message = inboundAuthMessage(verdict.reason, toleranceOf(auth));
      const challenge: Record<string, string> =
        auth.bearerToken !== undefined ? { "www-authenticate": 'Bearer realm="ess-inbound"' } : {};
      return this.reject(log, connectorName, "unauthenticated", 401, message, challenge);
    }
    const parsed = parseCallback(body);
    if (!parsed.ok) return this.reject(log, connectorName, "malformed", 400, parsed.reason);
    const client = await this.options.pool.connect();
    // A checked-out client has no error listener of the pool's: without this one, a connection
    // lost mid-transaction would be an uncaught exception instead of this request's failure.
    let lost: Error | undefined;
    const onError = (error: Error) => {
      lost = error;
    };
    client.on("error", onError);
    let result: AnswerResult;
    const extra = this.options.alsoInTransaction;
    try {
      result = await applyAnswer(
        client,
        this.options.schema,
        {
          connector: connectorName,
          correlation: parsed.correlation,
          status: parsed.status,
          reference: parsed.reference,
          message: parsed.message,
          body: parsed.document,
          via: verdict.method,
        },
        extra ? (r) => extra(client, connector, parsed, r) : undefined,
      );
    } catch (error) {
      // A data exception (class 22): e.g. a \u0000 in a JSON string, which jsonb cannot hold.
      if (classifyPgError(error).kind === "data") {
        return this.reject(log, connectorName, "malformed", 400, "the body holds values the ledger cannot store");
      }
      throw error;
    } finally {
      client.off("error", onError);
      client.release(lost);
    }
    if (result.kind === "unmatched") {
      return this.reject(
        log.child({ correlationId: parsed.correlation, inboundEvent: result.inboundEventId, status: parsed.status }),
        connectorName,
        "unknown_correlation",
        404,
        "no delivery of this connector has that correlation id or token (the answer is stored for an operator)",
      );
    }
    const outcome = result.duplicate ? "duplicate" : result.state === "confirmed" ? "confirmed" : "rejected";
    this.options.metrics?.recordInbound(connectorName, outcome);
    const fields = {
      deliveryId: result.deliveryId,
      token: result.token,
      correlationId: result.correlationId,
      previousState: result.previousState,
      duplicate: result.duplicate,
      reference: parsed.reference,
      via: verdict.method,
    };
    if (result.duplicate) log.info(fields, `delivery already ${result.state}`);
    else if (result.state === "confirmed") log.info(fields, "delivery confirmed by the partner");
    else log.warn({ ...fields, reason: parsed.message }, "delivery rejected by the partner");
    return {
      status: 200,
      body: {
        state: result.state,
        deliveryId: result.deliveryId,
        correlationId: result.correlationId,
        duplicate: result.duplicate,
      },
    };
  }

  private reject(
    log: Logger,
    connector: string,
    outcome: InboundOutcome,
    status: number,
    error: string,
    headers: Readonly<Record<string, string>> = {},
  ): InboundReply {
    this.options.metrics?.recordInbound(connector, outcome);
    log.warn({ status, outcome }, `inbound callback rejected: ${error}`);
    return { status, body: { error }, headers };
  }
}
