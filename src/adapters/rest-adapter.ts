// Delivers rendered JSON records to a partner's REST endpoint, one request per record (or a CSV or
// fixed-width connector's whole batch as one body), and checks its health.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { ConnectorConfig } from "../config/types.js";
import type { Logger } from "../ops/logger.js";
import {
  type Adapter,
  AdapterError,
  type Batch,
  type DeliveryItem,
  type ItemOutcome,
  type SendContext,
} from "./adapter.js";
import { sendRecordsInOrder } from "./http-batch.js";
import {
  abortedCallError,
  bodyExcerpt,
  classifyHttpStatus,
  classifyTransportError,
  parseRetryAfter,
} from "./http-failure.js";
import { findReference, REFERENCE_HEADERS } from "./http-reference.js";
import { callHttp, type HttpCall, type HttpReply } from "./http-transport.js";

export type RestConnector = Extract<ConnectorConfig, { adapter: "rest" }>;

export interface RestAdapterDeps {
  readonly logger: Logger;
}

/**
 * Each record is sent with `Idempotency-Key: <token>` (the same on every resend of one change)
 * and `X-Correlation-Id`, so a partner that honours the key applies it once.
 *
 * Heartbeat: GET `rest.health` (2xx = up); without one, HEAD on the origin of `rest.url`, where
 * any answer below 500 means the partner is reachable.
 */
export class RestAdapter implements Adapter {
  readonly kind = "rest";
  readonly oneBatchAtATime = false;
  private readonly options: RestConnector["rest"];
  private readonly logger: Logger;
  /** Configured header values are secrets (API keys): they are redacted from any quoted response text. */
  private readonly secrets: readonly string[];
  private ca: Promise<string> | undefined;
  /** `format: csv` or `fixed-width` on the connector: one request carries the whole batch body. */
  readonly takesBatchBody: boolean;
  private readonly batchContentType: string;

  constructor(connector: RestConnector, deps: RestAdapterDeps) {
    this.options = connector.rest;
    this.takesBatchBody = connector.format === "csv" || connector.format === "fixed-width";
    const charset = connector.encoding.toLowerCase();
    this.batchContentType = `${connector.format === "csv" ? "text/csv" : "text/plain"}; charset=${charset}`;
    this.logger = deps.logger.child({ connector: connector.name, adapter: "rest" });
    this.secrets = Object.values(connector.rest.headers).filter((value) => value.length >= 4);
  }

  async send(batch: Batch, context: SendContext): Promise<readonly ItemOutcome[]> {
    if (this.takesBatchBody) return await this.sendBatchBody(batch, context.signal);
    return await sendRecordsInOrder(
      batch.items,
      context.signal,
      (item) => this.sendRecord(item, context.signal),
      (error) => classifyTransportError(error, this.describe(this.options.method)),
    );
  }

  async heartbeat(signal: AbortSignal): Promise<void> {
    const health = this.options.health;
    const url = health ?? new URL(this.options.url).origin;
    const method = health ? "GET" : "HEAD";
    const reply = await this.exchange({ method, url, headers: { ...this.options.headers } }, signal);
    const what = `health check ${method} ${safeUrl(url)}`;
    if (health) {
      const failure = classifyHttpStatus(reply.status, { what, excerpt: this.excerpt(reply.body) });
      // A health URL answering 4xx is down too; a heartbeat failure never dead-letters anything.
      if (failure)
        throw new AdapterError(failure.message, {
          failure: "retriable",
          reason: failure.reason,
          retryAfterMs: failure.retryAfterMs,
        });
    } else if (reply.status >= 500) {
      throw new AdapterError(`${what} answered HTTP ${reply.status}`, {
        failure: "retriable",
        reason: `http_${reply.status}`,
      });
    }
  }

  async close(): Promise<void> {
    // fetch keeps no per-adapter connections to release.
  }

  private async sendRecord(item: DeliveryItem, signal: AbortSignal): Promise<string | undefined> {
    const log = this.logger.child({ deliveryId: item.id, token: item.token, correlationId: item.correlationId });
    const method = this.options.method;
    // Lower-cased names, so a configured Content-Type replaces the default instead of being joined to it.
    const headers: Record<string, string> = {
      "content-type": "application/json",
      accept: "application/json",
      ...lowerCaseNames(this.options.headers),
      "idempotency-key": item.token,
      "x-correlation-id": item.correlationId,
      ...(item.traceId ? { "x-trace-id": item.traceId } : {}),
    };
    log.debug({ key: item.key, url: safeUrl(this.options.url), method }, "sending record");
    const reply = await this.exchange({ method, url: this.options.url, headers, body: item.payload }, signal);
    const failure = classifyHttpStatus(reply.status, {
      what: this.describe(method),
      retryAfterMs: parseRetryAfter(reply.header("retry-after")),
      excerpt: this.excerpt(reply.body),
    });
    if (failure) {
      log.warn({ status: reply.status, failure: failure.failure, reason: failure.reason }, "partner refused record");
      throw failure;
    }
    const reference = referenceOf(reply);
    log.debug({ status: reply.status, reference }, "partner accepted record");
    return reference;
  }

  /**
   * The whole batch as one body. Its idempotency key is derived from the members' tokens, so a
   * resend of the same batch carries the same key; the verdict is the batch's (all or none).
   */
  private async sendBatchBody(batch: Batch, signal: AbortSignal): Promise<readonly ItemOutcome[]> {
    const method = this.options.method;
    const key = batchIdempotencyKey(batch.items.map((i) => i.token));
    const headers: Record<string, string> = {
      "content-type": this.batchContentType,
      accept: "application/json, text/plain",
      ...lowerCaseNames(this.options.headers),
      "idempotency-key": key,
      "x-correlation-id": key,
      "x-record-count": String(batch.items.length),
    };
    const log = this.logger.child({ batch: batch.id, key, records: batch.items.length });
    log.debug({ url: safeUrl(this.options.url), method }, "sending batch body");
    const reply = await this.exchange({ method, url: this.options.url, headers, body: batch.body }, signal);
    const failure = classifyHttpStatus(reply.status, {
      what: this.describe(method),
      retryAfterMs: parseRetryAfter(reply.header("retry-after")),
      excerpt: this.excerpt(reply.body),
    });
    if (failure) {
      log.warn({ status: reply.status, failure: failure.failure, reason: failure.reason }, "partner refused batch");
      throw failure;
    }
    const reference = referenceOf(reply);
    return batch.items.map((item) => ({ id: item.id, ok: true, reference }));
  }

  /** One HTTP exchange bounded by the connector's timeout and the caller's signal; failures become AdapterErrors. */
  private async exchange(call: Omit<HttpCall, "signal" | "ca">, signal: AbortSignal): Promise<HttpReply> {
    const ca = await this.loadCa();
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    const what = `${call.method} ${safeUrl(call.url)}`;
    try {
      return await callHttp({ ...call, signal: AbortSignal.any([signal, timeout]), ...(ca ? { ca } : {}) });
    } catch (error) {
      if (timeout.aborted || signal.aborted) {
        throw abortedCallError(what, timeout.aborted, this.options.timeoutMs, error);
      }
      throw classifyTransportError(error, what);
    }
  }

  private async loadCa(): Promise<string | undefined> {
    const file = this.options.caFile;
    if (file === undefined) return undefined;
    this.ca ??= readFile(file, "utf8").catch((error: unknown) => {
      // Forget the failure so the next attempt reads the file again (it may be mounted late).
      this.ca = undefined;
      throw new AdapterError(`cannot read the CA file ${file}: ${String(error)}`, {
        failure: "retriable",
        reason: "ca_file",
        cause: error,
      });
    });
    return await this.ca;
  }

  private describe(method: string): string {
    return `${method} ${safeUrl(this.options.url)}`;
  }

  private excerpt(body: string): string {
    return bodyExcerpt(body, this.secrets);
  }
}

/** `ess1-batch-<sha256 of the members' tokens>`: the same batch always gets the same key. */
export function batchIdempotencyKey(tokens: readonly string[]): string {
  return `ess1-batch-${createHash("sha256").update(tokens.join("\n")).digest("hex").slice(0, 40)}`;
}

function lowerCaseNames(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

/** The URL without credentials or query string, which may carry an API key. */
function safeUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

/** A receipt header, else a receipt field of a JSON body, else the status. */
function referenceOf(reply: HttpReply): string {
  for (const name of REFERENCE_HEADERS) {
    const value = reply.header(name);
    if (value) return value;
  }
  return findReference(parseJson(reply.body)) ?? `HTTP ${reply.status}`;
}

function parseJson(text: string): unknown {
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // Not JSON: the partner's body holds no machine-readable receipt, and the status will do.
    return undefined;
  }
}
