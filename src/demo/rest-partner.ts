// The VDOT GIS bridge for the demo: an HTTP endpoint on 127.0.0.1 that checks the API key, records
// every request, and answers 503 once for one chosen permit so the demo shows a retry.
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type PartnerListen, urlHost } from "./partner-listen.js";

export interface ReceivedRestRequest {
  readonly method: string;
  readonly path: string;
  readonly idempotencyKey: string | undefined;
  readonly correlationId: string | undefined;
  readonly body: string;
  /** The HTTP status the partner answered with. */
  readonly status: number;
}

export interface RestPartnerOptions {
  readonly path: string;
  readonly healthPath: string;
  /** The first request carrying this permit_id is answered 503 with Retry-After. */
  readonly failOncePermit?: string;
  readonly retryAfterSeconds?: number;
  /** Default: a fresh random key. */
  readonly apiKey?: string;
  /** Where to listen (default 127.0.0.1, any free port). */
  readonly listen?: PartnerListen;
  /**
   * Told of every bridge request. When given, requests are not kept in `requests` (a
   * long-running partner would grow without bound).
   */
  readonly onRequest?: (request: ReceivedRestRequest) => void;
}

export interface RestPartner {
  readonly url: string;
  readonly healthUrl: string;
  readonly apiKey: string;
  /** Bridge requests only (health checks are not recorded). */
  readonly requests: readonly ReceivedRestRequest[];
  stop(): Promise<void>;
}

export async function startRestPartner(options: RestPartnerOptions): Promise<RestPartner> {
  const apiKey = options.apiKey ?? randomBytes(12).toString("base64url");
  const requests: ReceivedRestRequest[] = [];
  let failed = false;
  let accepted = 0;

  const reply = (
    req: IncomingMessage,
    body: string,
  ): { status: number; headers: Record<string, string>; text: string } => {
    if (req.headers["x-api-key"] !== apiKey) return { status: 401, headers: {}, text: '{"error":"bad API key"}' };
    if (!failed && options.failOncePermit !== undefined && permitOf(body) === options.failOncePermit) {
      failed = true;
      return {
        status: 503,
        headers: { "retry-after": String(options.retryAfterSeconds ?? 1) },
        text: '{"error":"bridge database is being backed up"}',
      };
    }
    accepted++;
    const confirmation = `GIS-${String(accepted).padStart(5, "0")}`;
    return { status: 200, headers: {}, text: JSON.stringify({ confirmation_id: confirmation }) };
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const path = new URL(req.url ?? "/", "http://partner").pathname;
      if (path === options.healthPath) {
        res.writeHead(200, { "content-type": "application/json" }).end('{"status":"up"}');
        return;
      }
      if (path !== options.path || req.method !== "POST") {
        res.writeHead(404).end();
        return;
      }
      const body = Buffer.concat(chunks).toString("utf8");
      const answer = reply(req, body);
      const received: ReceivedRestRequest = {
        method: req.method,
        path,
        idempotencyKey: header(req, "idempotency-key"),
        correlationId: header(req, "x-correlation-id"),
        body,
        status: answer.status,
      };
      if (options.onRequest) options.onRequest(received);
      else requests.push(received);
      res.writeHead(answer.status, { "content-type": "application/json", ...answer.headers }).end(answer.text);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.listen?.port ?? 0, options.listen?.host ?? "127.0.0.1", () => resolve());
  });
  const origin = `http://${urlHost(options.listen?.host ?? "127.0.0.1")}:${(server.address() as AddressInfo).port}`;
  let stopped = false;
  return {
    url: `${origin}${options.path}`,
    healthUrl: `${origin}${options.healthPath}`,
    apiKey,
    requests,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function permitOf(body: string): unknown {
  try {
    return (JSON.parse(body) as { permit_id?: unknown }).permit_id;
  } catch {
    // Not JSON: the partner stores it as received; it names no permit.
    return undefined;
  }
}
