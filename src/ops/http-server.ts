// The HTTP endpoints: GET /metrics, /healthz, /readyz for operators; POST /inbound/<connector>
// for partners; POST /events and GET /receipts/<id> for applications. One server may carry all of
// them (`http.listen` alone) or one side each (`http.inbound.listen` beside it, optionally TLS).
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
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

/** Which endpoints a listener serves. */
export type ListenerRole = "all" | "operators" | "partners";

const ROLE_SETTING: Record<ListenerRole, string> = {
  all: "http.listen",
  operators: "http.listen",
  partners: "http.inbound.listen",
};

const ROLE_ENDPOINTS: Record<ListenerRole, string> = {
  all: "/metrics, /healthz, /readyz and /inbound",
  operators: "/metrics, /healthz and /readyz",
  partners: "/inbound, /events and /receipts",
};

export interface HttpListenErrorOptions {
  readonly host: string;
  readonly port: number;
  readonly code: string | undefined;
  readonly cause: unknown;
  /** Which listener failed: its endpoints and setting are named in the message. */
  readonly role?: ListenerRole;
}

export class HttpListenError extends Error {
  override readonly name = "HttpListenError";
  readonly host: string;
  readonly port: number;
  /** The errno name, e.g. EADDRINUSE. */
  readonly code: string | undefined;
  constructor(options: HttpListenErrorOptions) {
    const { host, port, code, cause } = options;
    const role = options.role ?? "all";
    super(
      `cannot listen on ${host}:${port} for ${ROLE_ENDPOINTS[role]}: ${code ?? (cause as Error)?.message}` +
        (code === "EADDRINUSE" ? ` (another process uses the port: change ${ROLE_SETTING[role]} in ess.yaml)` : ""),
      { cause },
    );
    this.host = host;
    this.port = port;
    this.code = code;
  }
}

export class HttpTlsFileError extends Error {
  override readonly name = "HttpTlsFileError";
  constructor(
    readonly file: string,
    options: { cause: unknown },
  ) {
    super(
      `cannot read ${file} for http.inbound.tls: ${(options.cause as Error)?.message ?? String(options.cause)}`,
      options,
    );
  }
}

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

const INBOUND_PATH = /^\/inbound\/([^/]+)\/?$/;
const RECEIPT_PATH = /^\/receipts\/([^/]+)\/?$/;

export class OpsHttpServer {
  private server: Server | undefined;
  private bound: HttpAddress | undefined;

  constructor(
    private readonly endpoints: OpsEndpoints,
    private readonly logger: Logger,
    private readonly role: ListenerRole = "all",
  ) {}

  address(): HttpAddress | undefined {
    return this.bound;
  }

  /** Port 0 picks a free port; the bound address is returned and kept in address(). */
  async listen(host: string, port: number, tls?: TlsFiles): Promise<HttpAddress> {
    if (this.bound) return this.bound;
    const handler = (request: IncomingMessage, response: ServerResponse) => {
      this.route(request, response).catch((error: unknown) => this.lastResort(error, response));
    };
    const server = tls
      ? createTlsServer({ cert: readTlsFile(tls.certFile), key: readTlsFile(tls.keyFile) }, handler)
      : createServer(handler);
    // Slow or stuck clients must not pin sockets: a callback or a scrape is small.
    server.requestTimeout = 30_000;
    server.headersTimeout = 10_000;
    server.keepAliveTimeout = 5_000;
    server.maxHeadersCount = 100;
    // A malformed request line or header is answered 400 by Node; this only keeps it out of the
    // error log as a server failure and makes sure the socket goes.
    server.on("clientError", (error: NodeJS.ErrnoException, socket) => {
      this.logger.debug({ code: error.code }, "malformed HTTP request refused");
      if (socket.writable && !socket.writableEnded) socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n");
      socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", (error: NodeJS.ErrnoException) =>
        reject(new HttpListenError({ host, port, code: error.code, cause: error, role: this.role })),
      );
      server.listen(port, host, () => resolve());
    });
    server.on("error", (error) => this.logger.error({ err: error }, "HTTP server error"));
    const address = server.address() as AddressInfo;
    const shown = address.family === "IPv6" ? `[${address.address}]` : address.address;
    this.server = server;
    const scheme = tls ? "https" : "http";
    this.bound = { host: address.address, port: address.port, url: `${scheme}://${shown}:${address.port}` };
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
    let path = "/";
    try {
      path = requestPath(request.url);
      if (path === "/healthz") {
        if (!isRead(method)) return methodNotAllowed(response, "GET, HEAD");
        return send(response, 200, { status: "ok" });
      }
      if (this.role !== "partners") {
        const served = await this.routeOperators(method, path, response);
        if (served) return;
      }
      if (this.role !== "operators") {
        const served = await this.routePartners(method, path, request, response);
        if (served) return;
      }
      return send(response, 404, { error: `not found: try ${this.known()}` });
    } catch (error) {
      if (error instanceof BadRequestTarget) return send(response, 400, { error: error.message });
      this.logger.error(
        { err: { message: redactSecrets(String((error as Error)?.message ?? error)) }, method, path },
        "HTTP request failed",
      );
      if (!response.headersSent) send(response, 500, { error: "internal error; see the ESS log" });
      else response.destroy();
    }
  }

  private async routeOperators(method: string, path: string, response: ServerResponse): Promise<boolean> {
    if (path === "/readyz") {
      if (!isRead(method)) methodNotAllowed(response, "GET, HEAD");
      else {
        const report = await this.endpoints.readiness();
        send(response, report.ready ? 200 : 503, { status: report.ready ? "ready" : "not ready", ...report });
      }
      return true;
    }
    if (path === "/metrics") {
      if (!isRead(method)) methodNotAllowed(response, "GET, HEAD");
      else {
        const metrics = await this.endpoints.metrics();
        response.writeHead(200, { "content-type": metrics.contentType });
        response.end(metrics.text);
      }
      return true;
    }
    return false;
  }

  private async routePartners(
    method: string,
    path: string,
    request: IncomingMessage,
    response: ServerResponse,
  ): Promise<boolean> {
    const inbound = INBOUND_PATH.exec(path);
    if (inbound?.[1]) {
      if (method !== "POST") methodNotAllowed(response, "POST");
      else {
        const connector = decodeSegment(inbound[1]);
        if (connector === undefined) send(response, 404, { error: "no such connector" });
        else {
          const reply = await this.endpoints.inbound(connector, request);
          send(response, reply.status, reply.body, reply.headers);
        }
      }
      return true;
    }
    if (path === "/events" || path === "/events/") {
      if (method !== "POST") methodNotAllowed(response, "POST");
      else {
        const reply = await this.endpoints.events(request);
        send(response, reply.status, reply.body, reply.headers);
      }
      return true;
    }
    const receipt = RECEIPT_PATH.exec(path);
    if (receipt?.[1]) {
      if (!isRead(method)) methodNotAllowed(response, "GET, HEAD");
      else {
        const reply = await this.endpoints.receipt(decodeSegment(receipt[1]) ?? "", request);
        send(response, reply.status, reply.body, reply.headers);
      }
      return true;
    }
    return false;
  }

  private known(): string {
    const operators = "/metrics, /healthz, /readyz";
    const partners = "POST /inbound/<connector>, POST /events or GET /receipts/<id>";
    if (this.role === "operators") return `${operators} (partners' endpoints are on http.inbound.listen)`;
    if (this.role === "partners") return `/healthz, ${partners}`;
    return `${operators}, ${partners}`;
  }

  /** A failure that escaped route() itself (e.g. while answering): logged, the socket closed, the process kept. */
  private lastResort(error: unknown, response: ServerResponse): void {
    this.logger.error(
      { err: { message: redactSecrets(String((error as Error)?.message ?? error)) } },
      "HTTP request failed",
    );
    if (!response.headersSent) {
      try {
        send(response, 500, { error: "internal error; see the ESS log" });
        return;
      } catch {
        // The response cannot be written any more: dropping the connection is all that is left.
      }
    }
    response.destroy();
  }
}

class BadRequestTarget extends Error {
  override readonly name = "BadRequestTarget";
}

/** The path of a request target; an absolute-form target (`GET http://host/…`) is allowed if it parses. */
function requestPath(target: string | undefined): string {
  try {
    return new URL(target ?? "/", "http://localhost").pathname;
  } catch {
    throw new BadRequestTarget("bad request: the request target is not a valid URL");
  }
}

function readTlsFile(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new HttpTlsFileError(file, { cause: error });
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
