// CSV over REST: a connector with format csv POSTs each batch as one text/csv body to a real HTTP server.
import { afterEach, describe, expect, it } from "vitest";
import { AdapterError, type Batch, type DeliveryItem } from "../../src/adapters/adapter.js";
import { batchIdempotencyKey, RestAdapter, type RestConnector } from "../../src/adapters/rest-adapter.js";
import { silentLogger } from "../../src/ops/logger.js";
import { type Reply, startHttpServer, type TestHttpServer } from "../support/http-server.js";

function connector(url: string): RestConnector {
  return {
    name: "payroll_rest",
    adapter: "rest",
    format: "csv",
    location: { file: "connectors/payroll_rest.yaml", line: 1, column: 1, path: [] },
    encoding: "utf-8",
    batch: { maxRecords: 100, maxWaitMs: 1000 },
    retry: { maxAttempts: 8, initialDelayMs: 2000, maxDelayMs: 3_600_000, maxAgeMs: 86_400_000 },
    heartbeat: { everyMs: 30_000, offlineAfter: 3 },
    ordering: "key",
    dryRun: false,
    rest: { url: `${url}/api/import`, method: "POST", headers: { "X-API-Key": "payroll-key-1" }, timeoutMs: 5000 },
  };
}

function item(n: number): DeliveryItem {
  const line = `BP-${n},${n}00.00\r\n`;
  return { id: String(n), token: `tok-${n}`, correlationId: `corr-${n}`, key: `BP-${n}`, payload: Buffer.from(line) };
}

function batch(items: DeliveryItem[]): Batch {
  const body = Buffer.concat([Buffer.from("permit_id,amount\r\n"), ...items.map((i) => i.payload)]);
  return { connector: "payroll_rest", id: "9", sequence: 9, createdAt: new Date(), items, body };
}

const context = { signal: new AbortController().signal, saveState: async () => undefined };

describe("CSV over REST: one request per batch", () => {
  let server: TestHttpServer | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  async function partner(reply: (index: number) => Reply): Promise<TestHttpServer> {
    server = await startHttpServer((_request, index) => reply(index));
    return server;
  }

  it("POSTs the whole body as text/csv with one idempotency key, the same on a resend; every item takes the batch's verdict", async () => {
    const http = await partner((index) =>
      index === 0 ? { status: 503, body: "busy" } : { status: 201, headers: { "x-confirmation-id": "IMP-7" } },
    );
    const adapter = new RestAdapter(connector(http.url), { logger: silentLogger() });
    expect(adapter.takesBatchBody).toBe(true);
    const sent = batch([item(1), item(2), item(3)]);

    const failed = await adapter.send(sent, context).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failed).toBeInstanceOf(AdapterError);
    expect((failed as AdapterError).failure).toBe("retriable");
    expect((failed as AdapterError).reason).toBe("http_503");

    const outcomes = await adapter.send(sent, context);
    expect(outcomes).toEqual(["1", "2", "3"].map((id) => ({ id, ok: true, reference: "IMP-7" })));
    expect(http.requests).toHaveLength(2);
    const [first, second] = http.requests;
    expect(second?.body).toBe("permit_id,amount\r\nBP-1,100.00\r\nBP-2,200.00\r\nBP-3,300.00\r\n");
    expect(second?.headers["content-type"]).toBe("text/csv; charset=utf-8");
    expect(second?.headers["x-api-key"]).toBe("payroll-key-1");
    expect(second?.headers["x-record-count"]).toBe("3");
    const key = batchIdempotencyKey(["tok-1", "tok-2", "tok-3"]);
    expect(first?.headers["idempotency-key"]).toBe(key);
    expect(second?.headers["idempotency-key"]).toBe(key);
    expect(batchIdempotencyKey(["tok-1", "tok-2"])).not.toBe(key);
  });

  it("a 4xx refuses the whole batch permanently", async () => {
    const http = await partner(() => ({ status: 422, body: "line 2: amount is not a number" }));
    const adapter = new RestAdapter(connector(http.url), { logger: silentLogger() });
    const failed = await adapter.send(batch([item(1), item(2)]), context).then(
      () => undefined,
      (error: unknown) => error as AdapterError,
    );
    expect(failed?.failure).toBe("permanent");
    expect(failed?.message).toContain("amount is not a number");
  });
});
