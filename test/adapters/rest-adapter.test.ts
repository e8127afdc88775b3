// The REST adapter against a real HTTP(S) partner on 127.0.0.1.
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import type { Batch, DeliveryItem, ItemFailed, ItemOutcome, SendContext } from "../../src/adapters/adapter.js";
import { AdapterError } from "../../src/adapters/adapter.js";
import { RestAdapter, type RestConnector } from "../../src/adapters/rest-adapter.js";
import type { RestOptions } from "../../src/config/types.js";
import { createLogger, silentLogger } from "../../src/ops/logger.js";
import { freePort } from "../support/free-port.js";
import { type Reply, selfSignedCertificate, startHttpServer, type TestHttpServer } from "../support/http-server.js";

const API_KEY = "gis-key-7f3a9c";

function connector(rest: Partial<RestOptions> & { url: string }): RestConnector {
  return {
    name: "vdot_gis",
    adapter: "rest",
    location: { file: "connectors/vdot_gis.yaml", line: 1, column: 1, path: [] },
    encoding: "utf-8",
    batch: { maxRecords: 100, maxWaitMs: 1000 },
    retry: { maxAttempts: 8, initialDelayMs: 2000, maxDelayMs: 3_600_000, maxAgeMs: 86_400_000 },
    heartbeat: { everyMs: 30_000, offlineAfter: 3 },
    ordering: "key",
    dryRun: false,
    rest: { method: "POST", headers: { "X-API-Key": API_KEY }, timeoutMs: 5000, ...rest },
  };
}

function item(n: number, payload: object = { permit_id: n, status: "approved" }): DeliveryItem {
  return {
    id: String(100 + n),
    token: `tok-${n}-0f1e2d`,
    correlationId: `corr-${n}`,
    key: String(n),
    payload: Buffer.from(JSON.stringify(payload), "utf8"),
  };
}

function batch(items: DeliveryItem[]): Batch {
  return { connector: "vdot_gis", id: "7", sequence: 7, createdAt: new Date(), items, body: Buffer.alloc(0) };
}

function context(signal: AbortSignal = new AbortController().signal): SendContext {
  return { signal, saveState: async () => {} };
}

function failed(outcome: ItemOutcome | undefined): ItemFailed {
  if (!outcome || outcome.ok) throw new Error(`expected a failed outcome, got ${JSON.stringify(outcome)}`);
  return outcome;
}

const servers: TestHttpServer[] = [];
async function partner(handler: (body: string, index: number) => Reply): Promise<TestHttpServer> {
  const server = await startHttpServer((request, index) => handler(request.body, index));
  servers.push(server);
  return server;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

describe("RestAdapter.send", () => {
  it("posts each record's JSON exactly as rendered, with Idempotency-Key, X-Correlation-Id and the configured headers", async () => {
    const server = await partner((_body, index) => ({
      status: 201,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ data: { id: `gis-${index}` } }),
    }));
    const adapter = new RestAdapter(connector({ url: `${server.url}/api/bridge` }), { logger: silentLogger() });
    const items = [item(1), item(2, { permit_id: 2, status: "denied", note: "Ünïcode ✓" })];

    const outcomes = await adapter.send(batch(items), context());

    expect(outcomes).toEqual([
      { id: "101", ok: true, reference: "gis-0" },
      { id: "102", ok: true, reference: "gis-1" },
    ]);
    expect(server.requests).toHaveLength(2);
    for (const [index, request] of server.requests.entries()) {
      const sent = items[index]!;
      expect(request.method).toBe("POST");
      expect(request.url).toBe("/api/bridge");
      expect(request.headers["idempotency-key"]).toBe(sent.token);
      expect(request.headers["x-correlation-id"]).toBe(sent.correlationId);
      expect(request.headers["x-api-key"]).toBe(API_KEY);
      expect(request.headers["content-type"]).toBe("application/json");
      expect(request.body).toBe(sent.payload.toString("utf8"));
    }
  });

  it("uses the configured method and content type, keeps its own Idempotency-Key, and takes the reference from a receipt header, else the status", async () => {
    const server = await partner((_body, index) =>
      index === 0 ? { status: 200, headers: { "x-message-id": "msg-42" }, body: "ok" } : { status: 204 },
    );
    const headers = { "X-API-Key": API_KEY, "Content-Type": "application/vnd.gis+json", "Idempotency-Key": "fixed" };
    const adapter = new RestAdapter(connector({ url: `${server.url}/api/bridge`, method: "PUT", headers }), {
      logger: silentLogger(),
    });

    const outcomes = await adapter.send(batch([item(1), item(2)]), context());

    expect(outcomes).toEqual([
      { id: "101", ok: true, reference: "msg-42" },
      { id: "102", ok: true, reference: "HTTP 204" },
    ]);
    expect(server.requests.map((request) => request.method)).toEqual(["PUT", "PUT"]);
    expect(server.requests[0]?.headers["content-type"]).toBe("application/vnd.gis+json");
    expect(server.requests[0]?.headers["idempotency-key"]).toBe("tok-1-0f1e2d");
  });

  it("a 503 with Retry-After: 2 is retriable after 2000 ms", async () => {
    const server = await partner(() => ({ status: 503, headers: { "retry-after": "2" }, body: "maintenance" }));
    const adapter = new RestAdapter(connector({ url: `${server.url}/api/bridge` }), { logger: silentLogger() });

    const outcome = failed((await adapter.send(batch([item(1)]), context()))[0]);

    expect(outcome.error).toBeInstanceOf(AdapterError);
    expect(outcome.error.failure).toBe("retriable");
    expect(outcome.error.reason).toBe("http_503");
    expect(outcome.error.retryAfterMs).toBe(2000);
  });

  it("a 429 with an HTTP-date Retry-After is retriable until that date", async () => {
    const server = await partner(() => ({
      status: 429,
      headers: { "retry-after": new Date(Date.now() + 4000).toUTCString() },
    }));
    const adapter = new RestAdapter(connector({ url: `${server.url}/api/bridge` }), { logger: silentLogger() });

    const outcome = failed((await adapter.send(batch([item(1)]), context()))[0]);

    expect(outcome.error.failure).toBe("retriable");
    expect(outcome.error.reason).toBe("http_429");
    // HTTP dates have whole seconds: 4 s ahead is 3 to 4 s from now.
    expect(outcome.error.retryAfterMs).toBeGreaterThan(2500);
    expect(outcome.error.retryAfterMs).toBeLessThanOrEqual(4000);
  });

  it("a 400 is permanent, quotes the status and body, and never the API key (in errors or logs)", async () => {
    const server = await partner((body) => ({
      status: 400,
      body: `{"error":"permit_id must be a string","echo":{"key":"${API_KEY}","body":${body}}}`,
    }));
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString("utf8"));
        done();
      },
    });
    const logger = createLogger({ level: "debug", destination });
    const adapter = new RestAdapter(connector({ url: `${server.url}/api/bridge` }), { logger });

    const outcome = failed((await adapter.send(batch([item(1)]), context()))[0]);

    expect(outcome.error.failure).toBe("permanent");
    expect(outcome.error.reason).toBe("http_400");
    expect(outcome.error.message).toContain("HTTP 400");
    expect(outcome.error.message).toContain("permit_id must be a string");
    expect(outcome.error.message).not.toContain(API_KEY);
    const log = lines.join("");
    expect(log).toContain("tok-1-0f1e2d");
    expect(log).toContain("corr-1");
    expect(log).not.toContain(API_KEY);
  });

  it("a partner slower than the timeout is retriable (timeout)", async () => {
    const server = await partner(() => ({ status: 200, delayMs: 5000 }));
    const adapter = new RestAdapter(connector({ url: `${server.url}/api/bridge`, timeoutMs: 300 }), {
      logger: silentLogger(),
    });
    const started = Date.now();

    const outcome = failed((await adapter.send(batch([item(1)]), context()))[0]);

    expect(outcome.error.failure).toBe("retriable");
    expect(outcome.error.reason).toBe("timeout");
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it("a partner that is not listening is retriable (connection refused)", async () => {
    const port = await freePort();
    const adapter = new RestAdapter(connector({ url: `http://127.0.0.1:${port}/api/bridge` }), {
      logger: silentLogger(),
    });

    const outcome = failed((await adapter.send(batch([item(1)]), context()))[0]);

    expect(outcome.error.failure).toBe("retriable");
    expect(outcome.error.reason).toBe("connection_refused");
  });

  it("stops at the first retriable failure and holds the later records back; a permanent failure stops nothing", async () => {
    const answers = [200, 400, 200, 503, 200];
    const server = await partner((_body, index) => ({ status: answers[index] ?? 599 }));
    const adapter = new RestAdapter(connector({ url: `${server.url}/api/bridge` }), { logger: silentLogger() });

    const outcomes = await adapter.send(batch([1, 2, 3, 4, 5, 6].map((n) => item(n))), context());

    expect(server.requests.map((request) => JSON.parse(request.body).permit_id)).toEqual([1, 2, 3, 4]);
    expect(outcomes.map((outcome) => outcome.id)).toEqual(["101", "102", "103", "104", "105", "106"]);
    expect(outcomes.map((outcome) => (outcome.ok ? "ok" : outcome.error.failure))).toEqual([
      "ok",
      "permanent",
      "ok",
      "retriable",
      "retriable",
      "retriable",
    ]);
    expect(failed(outcomes[4]).error.reason).toBe("not_attempted");
  });

  it("an aborted delivery sends nothing more and leaves the records retriable", async () => {
    const server = await partner(() => ({ status: 200 }));
    const adapter = new RestAdapter(connector({ url: `${server.url}/api/bridge` }), { logger: silentLogger() });
    const controller = new AbortController();
    controller.abort();

    const outcomes = await adapter.send(batch([item(1), item(2)]), context(controller.signal));

    expect(server.requests).toHaveLength(0);
    expect(outcomes.map((outcome) => (outcome.ok ? "ok" : outcome.error.failure))).toEqual(["retriable", "retriable"]);
  });
});

describe("RestAdapter over TLS", () => {
  it("refuses a certificate it cannot verify, and trusts it once caFile names its CA", async () => {
    const identity = await selfSignedCertificate();
    try {
      const server = await startHttpServer(() => ({ status: 202, body: '{"receipt_id":"R-9"}' }), { tls: identity });
      servers.push(server);
      const url = `${server.url}/api/bridge`;

      const untrusted = new RestAdapter(connector({ url }), { logger: silentLogger() });
      const refused = failed((await untrusted.send(batch([item(1)]), context()))[0]);
      expect(refused.error.failure).toBe("retriable");
      expect(refused.error.reason).toBe("tls");
      expect(server.requests).toHaveLength(0);

      const trusted = new RestAdapter(connector({ url, caFile: identity.certFile }), { logger: silentLogger() });
      const outcomes = await trusted.send(batch([item(1)]), context());
      expect(outcomes).toEqual([{ id: "101", ok: true, reference: "R-9" }]);
      expect(server.requests[0]?.headers["idempotency-key"]).toBe("tok-1-0f1e2d");
      await trusted.heartbeat(new AbortController().signal);
    } finally {
      await identity.remove();
    }
  });
});

describe("RestAdapter.heartbeat", () => {
  it("is up when the health URL answers 2xx and down when it answers 503", async () => {
    let healthy = true;
    const server = await partner(() => (healthy ? { status: 200, body: "ok" } : { status: 503 }));
    const adapter = new RestAdapter(connector({ url: `${server.url}/api/bridge`, health: `${server.url}/health` }), {
      logger: silentLogger(),
    });

    await adapter.heartbeat(new AbortController().signal);
    healthy = false;
    const down = await adapter.heartbeat(new AbortController().signal).then(
      () => undefined,
      (error: unknown) => error,
    );

    expect(server.requests.map((request) => `${request.method} ${request.url}`)).toEqual([
      "GET /health",
      "GET /health",
    ]);
    expect(down).toBeInstanceOf(AdapterError);
    expect((down as AdapterError).reason).toBe("http_503");
  });

  it("without a health URL, sends HEAD to the url's origin and is down when nothing listens", async () => {
    const server = await partner(() => ({ status: 404 }));
    const url = `${server.url}/api/bridge?region=7`;
    const adapter = new RestAdapter(connector({ url }), { logger: silentLogger() });

    await adapter.heartbeat(new AbortController().signal);
    expect(server.requests.map((request) => `${request.method} ${request.url}`)).toEqual(["HEAD /"]);

    await server.stop();
    await expect(adapter.heartbeat(new AbortController().signal)).rejects.toMatchObject({
      failure: "retriable",
      reason: "connection_refused",
    });
  });
});
