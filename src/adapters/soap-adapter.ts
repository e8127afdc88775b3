// Delivers records as calls of one SOAP operation (client built from the connector's WSDL) and checks the partner's health.
import { type Client, createClientAsync, WSSecurity } from "soap";
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
import { abortedCallError, bodyExcerpt, classifyHttpStatus, classifyTransportError } from "./http-failure.js";
import { describeAnswer, findReference } from "./http-reference.js";
import { callHttp, type HttpReply } from "./http-transport.js";
import { batchIdempotencyKey } from "./rest-adapter.js";
import { inputElements, soapArguments } from "./soap-arguments.js";
import { classifySoapError } from "./soap-failure.js";
import { type EssSoapHeaders, essHeaderXml } from "./soap-headers.js";
import { displayWsdl, safeUrl } from "./soap-wsdl.js";

export type SoapConnector = Extract<ConnectorConfig, { adapter: "soap" }>;

export interface SoapAdapterDeps {
  readonly logger: Logger;
}

type SoapCallback = (error: unknown, result: unknown) => void;
type SoapOperation = (args: object, callback: SoapCallback, options: object) => void;

/** Gateways answer 502/503/504 when the service behind them is down; any other answer means it is reachable. */
const DOWN_STATUSES = new Set([502, 503, 504]);

/**
 * Each record's payload (the JSON object of the operation's arguments) becomes one call of
 * `soap.operation`, with the idempotency token and correlation id in SOAP headers (see
 * soap-headers.ts) and a WS-Security UsernameToken (PasswordText) when `soap.security` is set.
 *
 * Heartbeat: a WSDL given as a URL is fetched (2xx = up); then the service address (`endpoint`,
 * else the WSDL's soap:address) is requested with GET, and any answer but 502/503/504 counts as
 * up, since SOAP servers answer a bare GET with anything from an empty 200 to a 405 or a fault.
 */
export class SoapAdapter implements Adapter {
  readonly kind = "soap";
  readonly oneBatchAtATime = false;
  private readonly options: SoapConnector["soap"];
  private readonly logger: Logger;
  /** Never quoted back in errors: the WS-Security password and any URL that may carry credentials. */
  private readonly secrets: readonly string[];
  private client: Promise<Client> | undefined;
  /**
   * The soap client keeps its SOAP headers on the client, shared by every call. Our header is a
   * function the client calls while it builds each envelope, with that call's own arguments
   * object: the headers are looked up by that object, so concurrent calls never swap tokens.
   */
  private readonly callHeaders = new WeakMap<object, EssSoapHeaders>();
  /** `format: csv` or `fixed-width` on the connector: one call carries the whole batch body. */
  readonly takesBatchBody: boolean;

  constructor(connector: SoapConnector, deps: SoapAdapterDeps) {
    this.options = connector.soap;
    this.logger = deps.logger.child({ connector: connector.name, adapter: "soap" });
    const urls = [connector.soap.wsdl, connector.soap.endpoint].filter(
      (url): url is string => url !== undefined && carriesSecret(url),
    );
    this.secrets = [...(connector.soap.security ? [connector.soap.security.password] : []), ...urls];
    this.takesBatchBody = connector.soap.attachment !== undefined;
  }

  async send(batch: Batch, context: SendContext): Promise<readonly ItemOutcome[]> {
    if (this.takesBatchBody) return await this.sendBatchBody(batch, context.signal);
    return await sendRecordsInOrder(
      batch.items,
      context.signal,
      (item) => this.sendRecord(item, context.signal),
      (error) => classifySoapError(error, { what: this.describe(), secrets: this.secrets }),
    );
  }

  async heartbeat(signal: AbortSignal): Promise<void> {
    if (isUrl(this.options.wsdl)) {
      const what = `WSDL ${safeUrl(this.options.wsdl)}`;
      const reply = await this.probe(this.options.wsdl, what, signal);
      const failure = classifyHttpStatus(reply.status, { what, excerpt: bodyExcerpt(reply.body, this.secrets) });
      if (failure) throw new AdapterError(failure.message, { failure: "retriable", reason: "wsdl_unavailable" });
    }
    const client = await this.loadClient();
    const address = this.options.endpoint ?? operationAddress(client, this.options.operation);
    if (address === undefined) throw unknownOperation(this.options.operation, this.options.wsdl);
    const what = `SOAP service ${safeUrl(address)}`;
    const reply = await this.probe(address, what, signal);
    if (DOWN_STATUSES.has(reply.status)) {
      throw new AdapterError(`${what} answered HTTP ${reply.status}`, {
        failure: "retriable",
        reason: `http_${reply.status}`,
      });
    }
  }

  async close(): Promise<void> {
    // The soap client holds no sockets between calls; dropping it lets a restart reload the WSDL.
    this.client = undefined;
  }

  private async sendRecord(item: DeliveryItem, signal: AbortSignal): Promise<string | undefined> {
    const log = this.logger.child({ deliveryId: item.id, token: item.token, correlationId: item.correlationId });
    const fields = parseArguments(item);
    const client = await this.loadClient();
    const args = soapArguments(item.id, fields, inputElements(client.describe(), this.options.operation));
    log.debug({ key: item.key, operation: this.options.operation }, "sending record");
    return await this.call(client, args, { token: item.token, correlationId: item.correlationId }, signal, log);
  }

  /**
   * The whole batch body (CSV or fixed-width bytes, in the connector's encoding) base64-encoded
   * in the operation's `attachment` element: one call per batch, with the batch's idempotency key
   * (derived from its members' tokens, so a resend carries the same key) as the token and the
   * correlation id. The verdict is the batch's: every record accepted, or the call's failure.
   */
  private async sendBatchBody(batch: Batch, signal: AbortSignal): Promise<readonly ItemOutcome[]> {
    const key = batchIdempotencyKey(batch.items.map((i) => i.token));
    const log = this.logger.child({ batch: batch.id, key, records: batch.items.length });
    const client = await this.loadClient();
    const element = this.options.attachment as string;
    const allowed = inputElements(client.describe(), this.options.operation);
    for (const name of [element, this.options.recordCount]) {
      if (name !== undefined && allowed && !allowed.has(name)) {
        // Every batch would fail the same way: hold the connector until the configuration is fixed.
        throw new AdapterError(
          `the WSDL ${displayWsdl(this.options.wsdl)} has no element "${name}" in the input of ${this.options.operation}`,
          { failure: "attention", reason: "soap_unknown_element" },
        );
      }
    }
    const args: Record<string, string | number> = { [element]: batch.body.toString("base64") };
    if (this.options.recordCount !== undefined) args[this.options.recordCount] = batch.items.length;
    log.debug({ operation: this.options.operation, bytes: batch.body.length }, "sending batch body");
    const reference = await this.call(client, args, { token: key, correlationId: key }, signal, log);
    return batch.items.map((item) => ({ id: item.id, ok: true, reference }));
  }

  private async call(
    client: Client,
    args: object,
    headers: EssSoapHeaders,
    signal: AbortSignal,
    log: Logger,
  ): Promise<string | undefined> {
    const operation = client[this.options.operation] as unknown;
    if (typeof operation !== "function") throw unknownOperation(this.options.operation, this.options.wsdl);
    this.callHeaders.set(args, headers);
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    try {
      const result = await new Promise<unknown>((resolve, reject) => {
        (operation as SoapOperation)(args, (error, answer) => (error ? reject(error) : resolve(answer)), {
          signal: AbortSignal.any([signal, timeout]),
          // A redirected POST may come back as a GET without the envelope; report it instead.
          maxRedirects: 0,
        });
      });
      const reference = findReference(result) ?? describeAnswer(result);
      log.debug({ reference }, "partner accepted the call");
      return reference;
    } catch (error) {
      const failure =
        timeout.aborted || signal.aborted
          ? abortedCallError(this.describe(), timeout.aborted, this.options.timeoutMs, error)
          : classifySoapError(error, { what: this.describe(), secrets: this.secrets });
      log.warn(
        { failure: failure.failure, reason: failure.reason, error: failure.message },
        "partner refused the call",
      );
      throw failure;
    }
  }

  /** The client for this connector, built once from the WSDL; a failed build is forgotten so the next call retries it. */
  private loadClient(): Promise<Client> {
    this.client ??= this.createClient().catch((error: unknown) => {
      this.client = undefined;
      if (error instanceof AdapterError) throw error;
      const message = error instanceof Error ? error.message : String(error);
      throw new AdapterError(
        `cannot load the WSDL ${displayWsdl(this.options.wsdl)}: ${bodyExcerpt(message, this.secrets)}`,
        { failure: "retriable", reason: "wsdl_unavailable", cause: error },
      );
    });
    return this.client;
  }

  private async createClient(): Promise<Client> {
    const client = await createClientAsync(this.options.wsdl, {
      // The package's WSDL cache is process-wide and its clients write options into the shared WSDL object.
      disableCache: true,
      wsdl_options: { timeout: this.options.timeoutMs },
      ...(this.options.endpoint ? { endpoint: this.options.endpoint } : {}),
    });
    if (operationAddress(client, this.options.operation) === undefined) {
      throw unknownOperation(this.options.operation, this.options.wsdl);
    }
    const security = this.options.security;
    if (security) {
      client.setSecurity(new WSSecurity(security.username, security.password, { passwordType: "PasswordText" }));
    }
    client.addSoapHeader((_method: unknown, _location: unknown, _action: unknown, args: unknown) => {
      const headers = args && typeof args === "object" ? this.callHeaders.get(args) : undefined;
      // Only our own calls reach this client, and each registers its headers first.
      if (!headers) throw new Error("a SOAP call was made without its ESS headers");
      return essHeaderXml(headers);
    });
    return client;
  }

  private async probe(url: string, what: string, signal: AbortSignal): Promise<HttpReply> {
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    try {
      return await callHttp({ method: "GET", url, headers: {}, signal: AbortSignal.any([signal, timeout]) });
    } catch (error) {
      if (timeout.aborted || signal.aborted) {
        throw abortedCallError(what, timeout.aborted, this.options.timeoutMs, error);
      }
      throw classifyTransportError(error, what);
    }
  }

  private describe(): string {
    const address = this.options.endpoint ? ` at ${safeUrl(this.options.endpoint)}` : "";
    return `SOAP ${this.options.operation}${address}`;
  }
}

/** The operation's arguments: the payload must be a JSON object (the mapped fields, in order). */
function parseArguments(item: DeliveryItem): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(item.payload.toString("utf8"));
  } catch (error) {
    throw new AdapterError(`delivery ${item.id}: the payload is not JSON`, {
      failure: "permanent",
      reason: "bad_payload",
      cause: error,
    });
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new AdapterError(`delivery ${item.id}: the payload is not a JSON object`, {
      failure: "permanent",
      reason: "bad_payload",
    });
  }
  return parsed as Record<string, unknown>;
}

/** The soap:address of the first port whose binding has the operation. */
function operationAddress(client: Client, operation: string): string | undefined {
  for (const service of Object.values(client.wsdl.definitions.services)) {
    for (const port of Object.values(service.ports)) {
      if (Object.hasOwn(port.binding.methods, operation)) return port.location;
    }
  }
  return undefined;
}

function unknownOperation(operation: string, wsdl: string): AdapterError {
  // Every record would fail the same way: stop the connector until an operator fixes the configuration.
  return new AdapterError(`the WSDL ${displayWsdl(wsdl)} has no operation "${operation}"`, {
    failure: "attention",
    reason: "soap_unknown_operation",
  });
}

/** A URL with user info or a query may hold credentials, so it is never quoted whole. */
function carriesSecret(url: string): boolean {
  if (!isUrl(url)) return false;
  const parsed = new URL(url);
  return parsed.username !== "" || parsed.password !== "" || (parsed.search !== "" && !/^\?wsdl$/i.test(parsed.search));
}

function isUrl(text: string): boolean {
  return /^https?:\/\//i.test(text);
}
