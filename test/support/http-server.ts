// A scripted HTTP(S) partner on 127.0.0.1 that records every request and answers as the test says.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import {
  createServer as createHttpServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./free-port.js";

export interface ReceivedRequest {
  readonly method: string;
  /** Path and query. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface Reply {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Wait this long before answering (a slow partner); cut short when the server stops. */
  readonly delayMs?: number;
}

export type RequestHandler = (request: ReceivedRequest, index: number) => Reply | Promise<Reply>;

export interface TestHttpServer {
  /** Origin, e.g. http://127.0.0.1:40123 (https:// with TLS). */
  readonly url: string;
  readonly port: number;
  readonly requests: ReceivedRequest[];
  /** Replaces the handler for the requests that follow. */
  handle(handler: RequestHandler): void;
  stop(): Promise<void>;
}

export interface TlsIdentity {
  readonly key: string;
  readonly cert: string;
  /** The certificate as a PEM file (what a connector's caFile points at). */
  readonly certFile: string;
  remove(): Promise<void>;
}

export async function startHttpServer(
  handler: RequestHandler,
  options: { tls?: Pick<TlsIdentity, "key" | "cert"> } = {},
): Promise<TestHttpServer> {
  let current = handler;
  const requests: ReceivedRequest[] = [];
  const waits = new Set<() => void>();
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const request: ReceivedRequest = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      requests.push(request);
      void Promise.resolve(current(request, requests.length - 1))
        .then(async (reply) => {
          if (reply.delayMs) await wait(reply.delayMs, waits);
          if (res.destroyed) return;
          res.writeHead(reply.status, reply.headers);
          res.end(reply.body ?? "");
        })
        .catch((error: unknown) => {
          res.writeHead(599, { "content-type": "text/plain" });
          res.end(`test handler failed: ${String(error)}`);
        });
    });
  };
  const server: Server = options.tls
    ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, listener)
    : createHttpServer(listener);
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  let stopped = false;
  return {
    url: `${options.tls ? "https" : "http"}://127.0.0.1:${port}`,
    port,
    requests,
    handle: (next) => {
      current = next;
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      for (const release of waits) release();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function wait(ms: number, waits: Set<() => void>): Promise<void> {
  return new Promise((resolve) => {
    const release = () => {
      clearTimeout(timer);
      waits.delete(release);
      resolve();
    };
    const timer = setTimeout(release, ms);
    waits.add(release);
  });
}

/** A self-signed certificate for 127.0.0.1, made with the openssl command line tool. */
export async function selfSignedCertificate(): Promise<TlsIdentity> {
  const dir = await mkdtemp(join(tmpdir(), "ess-tls-"));
  const keyFile = join(dir, "key.pem");
  const certFile = join(dir, "cert.pem");
  try {
    await promisify(execFile)(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        keyFile,
        "-out",
        certFile,
        "-days",
        "2",
        "-subj",
        "/CN=ess-test-partner",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
      ],
      { timeout: 30_000 },
    );
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    const missing = (error as { code?: unknown }).code === "ENOENT";
    throw new Error(
      missing
        ? "the openssl command line tool is missing: install it (apt-get install openssl) to run the TLS tests"
        : `openssl could not create a test certificate: ${String(error)}`,
      { cause: error },
    );
  }
  return {
    key: await readFile(keyFile, "utf8"),
    cert: await readFile(certFile, "utf8"),
    certFile,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
