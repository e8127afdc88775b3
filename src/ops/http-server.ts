// The HTTP endpoints: GET /metrics, /healthz, /readyz for operators; POST /inbound/<connector>
// for partners; POST /events and GET /receipts/<id> for applications.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { redactSecrets } from "../config/secrets.js";
import type { InboundReply } from "./inbound-lane.js";
import type { Logger } from "./logger.js";
import type { ReadinessReport } from "./readiness.js";

export interface OpsEndpoints {
  metrics(): Promise<{ readonly contentType: string; readonly text: string }>;
  readiness(): Promise<ReadinessReport>;
  inbound(connector: string, request: IncomingMessage): Promise<InboundReply>;
  events(request: IncomingMessage): Promise<InboundReply>;
  receipt(id: string, request: IncomingMessage): Promise<InboundReply>;
}

export interface HttpAddress {
  readonly host: string;
  readonly port: number;
  /** e.g. http://127.0.0.1:9464 */
  readonly url: string;
}

export class HttpListenError extends Error {
  override readonly name = "HttpListenError";
  constructor(
    readonly host: string,
    readonly port: number,
    readonly code: string | undefined,
    options: { cause: unknown },
  ) {
    super(
      `cannot listen on ${host}:${port} for /metrics, /healthz, /readyz and /inbound: ${code ?? (options.cause as Error)?.message}` +
        (code === "EADDRINUSE" ? " (another process uses the port: change http.listen in ess.yaml)" : ""),
      options,
    );
  }
}

const INBOUND_PATH = /^\/inbound\/([^/]+)\/?$/;
const RECEIPT_PATH = /^\/receipts\/([^/]+)\/?$/;

export class OpsHttpServer {
  private server: Server | undefined;
  private bound: HttpAddress | undefined;

  constructor(
    private readonly endpoints: OpsEndpoints,
    private readonly logger: Logger,
  ) {}

  address(): HttpAddress | undefined {
    return this.bound;
  }

  /** Port 0 picks a free port; the bound address is returned and kept in address(). */
  async listen(host: string, port: number): Promise<HttpAddress> {
    if (this.bound) return this.bound;
    const server = createServer((request, response) => void this.route(request, response));
    // Slow or stuck clients must not pin sockets: a callback or a scrape is small.
    server.requestTimeout = 30_000;
    server.headersTimeout = 10_000;
    await new Promise<void>((resolve, reject) => {
      server.once("error", (error: NodeJS.ErrnoException) =>
        reject(new HttpListenError(host, port, error.code, { cause: error })),
      );
      server.listen(port, host, () => resolve());
    });
    server.on("error", (error) => this.logger.error({ err: error }, "HTTP server error"));
    const address = server.address() as AddressInfo;
    const shown = address.family === "IPv6" ? `[${address.address}]` : address.address;
    this.server = server;
    this.bound = { host: address.address, port: address.port, url: `http://${shown}:${address.port}` };
    return this.bound;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.bound = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    // Requests in flight get a moment to finish; scrapers and partners retry anyway.
    const timer = setTimeout(() => server.closeAllConnections(), 2_000);
    await closed;
    clearTimeout(timer);
  }

  private async route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const method = request.method ?? "GET";
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    try {
      if (path === "/healthz") {
        if (!isRead(method)) return methodNotAllowed(response, "GET, HEAD");
        return send(response, 200, { status: "ok" });
      }
      if (path === "/readyz") {
        if (!isRead(method)) return methodNotAllowed(response, "GET, HEAD");
        const report = await this.endpoints.readiness();
        return send(response, report.ready ? 200 : 503, { status: report.ready ? "ready" : "not ready", ...report });
      }
      if (path === "/metrics") {
        if (!isRead(method)) return methodNotAllowed(response, "GET, HEAD");
        const metrics = await this.endpoints.metrics();
        response.writeHead(200, { "content-type": metrics.contentType });
        response.end(metrics.text);
        return;
      }
      const inbound = INBOUND_PATH.exec(path);
      if (inbound?.[1]) {
        if (method !== "POST") return methodNotAllowed(response, "POST");
        const connector = decodeSegment(inbound[1]);
        if (connector === undefined) return send(response, 404, { error: "no such connector" });
        const reply = await this.endpoints.inbound(connector, request);
        return send(response, reply.status, reply.body, reply.headers);
      }
      if (path === "/events" || path === "/events/") {
        if (method !== "POST") return methodNotAllowed(response, "POST");
        const reply = await this.endpoints.events(request);
        return send(response, reply.status, reply.body, reply.headers);
      }
      const receipt = RECEIPT_PATH.exec(path);
      if (receipt?.[1]) {
        if (!isRead(method)) return methodNotAllowed(response, "GET, HEAD");
        const reply = await this.endpoints.receipt(decodeSegment(receipt[1]) ?? "", request);
        return send(response, reply.status, reply.body, reply.headers);
      }
      return send(response, 404, {
        error:
          "not found: try /metrics, /healthz, /readyz, POST /inbound/<connector>, POST /events or GET /receipts/<id>",
      });
    } catch (error) {
      this.logger.error(
        { err: { message: redactSecrets(String((error as Error)?.message ?? error)) }, method, path },
        "HTTP request failed",
      );
      if (!response.headersSent) send(response, 500, { error: "internal error; see the ESS log" });
      else response.destroy();
    }
  }
}

function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    // A malformed %-escape cannot name a connector: the caller answers 404.
    return undefined;
  }
}

function isRead(method: string): boolean {
  return method === "GET" || method === "HEAD";
}

function methodNotAllowed(response: ServerResponse, allow: string): void {
  send(response, 405, { error: `method not allowed; use ${allow}` }, { allow });
}

function send(
  response: ServerResponse,
  status: number,
  body: Readonly<Record<string, unknown>>,
  headers: Readonly<Record<string, string>> = {},
): void {
  const text = `${JSON.stringify(body)}\n`;
  response.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
    ...headers,
  });
  response.end(text);
}
