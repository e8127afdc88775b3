// The SOAP adapter against a real SOAP partner (soap.listen with the shipped county scheduler WSDL) on 127.0.0.1.
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import type { Batch, DeliveryItem, ItemFailed, ItemOutcome, SendContext } from "../../src/adapters/adapter.js";
import { AdapterError } from "../../src/adapters/adapter.js";
import { SoapAdapter, type SoapConnector } from "../../src/adapters/soap-adapter.js";
import type { SoapOptions } from "../../src/config/types.js";
import { silentLogger } from "../../src/ops/logger.js";
import { freePort } from "../support/free-port.js";
import { startHttpServer, type TestHttpServer } from "../support/http-server.js";
import { type SoapHandler, soapFault, startSoapServer, type TestSoapServer } from "../support/soap-server.js";

const WSDL = fileURLToPath(new URL("../../connectors/county_scheduler.wsdl", import.meta.url));
const USER = "ess-county";
const PASSWORD = "p@ss<&>word";

function connector(soap: Partial<SoapOptions>): SoapConnector {
  return {
    name: "county_scheduler",
    adapter: "soap",
    location: { file: "connectors/county_scheduler.yaml", line: 1, column: 1, path: [] },
    encoding: "utf-8",
    batch: { maxRecords: 100, maxWaitMs: 1000 },
    retry: { maxAttempts: 8, initialDelayMs: 2000, maxDelayMs: 3_600_000, maxAgeMs: 86_400_000 },
    heartbeat: { everyMs: 30_000, offlineAfter: 3 },
    ordering: "key",
    dryRun: false,
    soap: {
      wsdl: WSDL,
      operation: "Reschedule",
      security: { username: USER, password: PASSWORD },
      timeoutMs: 5000,
      ...soap,
    },
  };
}

function item(n: number, fields: Record<string, unknown> = {}): DeliveryItem {
  const args = { family: `A${n}`, new_date: "2024-05-04", reason: `moved by family ${n}`, ...fields };
  return {
    id: String(500 + n),
    token: `token-${n}-${"ab".repeat(8)}`,
    correlationId: `corr-${n}`,
    key: `A${n}`,
    payload: Buffer.from(JSON.stringify(args), "utf8"),
  };
}

function batch(items: DeliveryItem[], id = "3"): Batch {
  return { connector: "county_scheduler", id, sequence: 3, createdAt: new Date(), items, body: Buffer.alloc(0) };
}

function context(signal: AbortSignal = new AbortController().signal): SendContext {
  return { signal, saveState: async () => {} };
}

function failed(outcome: ItemOutcome | undefined): ItemFailed {
  if (!outcome || outcome.ok) throw new Error(`expected a failed outcome, got ${JSON.stringify(outcome)}`);
  return outcome;
}

const confirm: SoapHandler = (call) => ({ confirmation_id: `CONF-${String(call.args.family)}`, status: "RESCHEDULED" });

const stops: { stop(): Promise<void> }[] = [];
async function county(handler: SoapHandler = confirm): Promise<TestSoapServer> {
  const server = await startSoapServer({
    wsdlFile: WSDL,
    service: "SchedulerService",
    port: "SchedulerPort",
    operation: "Reschedule",
    handler,
  });
  stops.push(server);
  return server;
}

afterEach(async () => {
  await Promise.all(stops.splice(0).map((server) => server.stop()));
});

describe("SoapAdapter.send", () => {
  it("calls Reschedule with the mapped fields, a WS-Security UsernameToken and the token and correlation headers", async () => {
    const server = await county();
    const adapter = new SoapAdapter(connector({ endpoint: server.url }), { logger: silentLogger() });
    const items = [item(1), item(2)];

    const outcomes = await adapter.send(batch(items), context());

    expect(outcomes).toEqual([
      { id: "501", ok: true, reference: "CONF-A1" },
      { id: "502", ok: true, reference: "CONF-A2" },
    ]);
    expect(server.calls).toHaveLength(2);
    for (const [index, call] of server.calls.entries()) {
      const sent = items[index]!;
      const fields = JSON.parse(sent.payload.toString("utf8")) as Record<string, string>;
      expect(Object.keys(call.args)).toEqual(["family", "new_date", "reason"]);
      expect(call.args.family).toBe(fields.family);
      // xsd:date: the server parses the field into a date.
      expect((call.args.new_date as Date).toISOString().slice(0, 10)).toBe(fields.new_date);
      expect(call.args.reason).toBe(fields.reason);
      expect(call.token).toBe(sent.token);
      expect(call.correlationId).toBe(sent.correlationId);
      expect(call.username).toBe(USER);
      expect(call.password).toBe(PASSWORD);
      expect(call.passwordType).toMatch(/#PasswordText$/);
    }
  });

  it("a Client fault is permanent and a Server fault retriable", async () => {
    const server = await county((call) => {
      if (call.args.family === "A1") throw soapFault("Client", "unknown family A1");
      throw soapFault("Server", "scheduler database offline");
    });
    const adapter = new SoapAdapter(connector({ endpoint: server.url }), { logger: silentLogger() });

    const clientFault = failed((await adapter.send(batch([item(1)]), context()))[0]);
    const serverFault = failed((await adapter.send(batch([item(2)]), context()))[0]);

    expect(clientFault.error).toBeInstanceOf(AdapterError);
    expect(clientFault.error.failure).toBe("permanent");
    expect(clientFault.error.reason).toBe("soap_client_fault");
    expect(clientFault.error.message).toContain("unknown family A1");
    expect(serverFault.error.failure).toBe("retriable");
    expect(serverFault.error.reason).toBe("soap_server_fault");
    expect(serverFault.error.message).toContain("scheduler database offline");
  });

  it("a service that throws an unexpected error (SOAP 1.2 style Server fault) is retriable", async () => {
    const server = await county(() => {
      throw new Error("NullReferenceException");
    });
    const adapter = new SoapAdapter(connector({ endpoint: server.url }), { logger: silentLogger() });

    const outcome = failed((await adapter.send(batch([item(1)]), context()))[0]);

    expect(outcome.error.failure).toBe("retriable");
    expect(outcome.error.reason).toBe("soap_server_fault");
  });

  it("an HTTP 503 without a fault is retriable and honours Retry-After", async () => {
    const server = await county();
    server.intercept((_req, res) => {
      res.writeHead(503, { "content-type": "text/html", "retry-after": "7" });
      res.end("<html><body>Service Unavailable</body></html>");
      return true;
    });
    const adapter = new SoapAdapter(connector({ endpoint: server.url }), { logger: silentLogger() });

    const outcome = failed((await adapter.send(batch([item(1)]), context()))[0]);

    expect(server.calls).toHaveLength(0);
    expect(outcome.error.failure).toBe("retriable");
    expect(outcome.error.reason).toBe("http_503");
    expect(outcome.error.retryAfterMs).toBe(7000);
  });

  it("a stopped server is retriable, and the adapter delivers once it is back", async () => {
    const port = await freePort();
    const adapter = new SoapAdapter(connector({ endpoint: `http://127.0.0.1:${port}/soap/scheduler` }), {
      logger: silentLogger(),
    });

    const outcomes = await adapter.send(batch([item(1), item(2)]), context());

    expect(failed(outcomes[0]).error.failure).toBe("retriable");
    expect(failed(outcomes[0]).error.reason).toBe("connection_refused");
    expect(failed(outcomes[1]).error.reason).toBe("not_attempted");
  });

  it("a partner slower than the timeout is retriable (timeout)", async () => {
    let release = () => {};
    const answered = new Promise<void>((resolve) => {
      release = resolve;
    });
    const server = await county(async (call) => {
      await answered;
      return confirm(call, 0);
    });
    const adapter = new SoapAdapter(connector({ endpoint: server.url, timeoutMs: 300 }), { logger: silentLogger() });
    const started = Date.now();

    const outcome = failed((await adapter.send(batch([item(1)]), context()))[0]);
    release();

    expect(outcome.error.failure).toBe("retriable");
    expect(outcome.error.reason).toBe("timeout");
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it("concurrent sends never carry each other's token or correlation id", async () => {
    const server = await county(async (call) => {
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20));
      return confirm(call, 0);
    });
    const adapter = new SoapAdapter(connector({ endpoint: server.url }), { logger: silentLogger() });
    const batches = [0, 1, 2, 3].map((b) =>
      batch(
        Array.from({ length: 8 }, (_, i) => item(b * 100 + i)),
        String(b),
      ),
    );

    const results = await Promise.all(batches.map((each) => adapter.send(each, context())));

    expect(results.flat().every((outcome) => outcome.ok)).toBe(true);
    expect(server.calls).toHaveLength(32);
    for (const call of server.calls) {
      const n = String(call.args.family).slice(1);
      expect(call.token).toBe(`token-${n}-${"ab".repeat(8)}`);
      expect(call.correlationId).toBe(`corr-${n}`);
    }
  });

  it("a payload that is not a JSON object is permanent for that record only", async () => {
    const server = await county();
    const adapter = new SoapAdapter(connector({ endpoint: server.url }), { logger: silentLogger() });
    const broken: DeliveryItem = { ...item(1), payload: Buffer.from("[1,2]") };

    const outcomes = await adapter.send(batch([broken, item(2)]), context());

    expect(failed(outcomes[0]).error.failure).toBe("permanent");
    expect(failed(outcomes[0]).error.reason).toBe("bad_payload");
    expect(outcomes[1]).toEqual({ id: "502", ok: true, reference: "CONF-A2" });
  });
});

describe("SoapAdapter and its WSDL", () => {
  it("a WSDL that cannot be loaded is retriable with the reason (no URL credentials), and is loaded again on the next attempt", async () => {
    const soapServer = await county();
    let available = false;
    const wsdlHost: TestHttpServer = await startHttpServer(async () => {
      if (!available) return { status: 404, body: "no such document" };
      const reply = await fetch(soapServer.wsdlUrl);
      return { status: 200, headers: { "content-type": "text/xml" }, body: await reply.text() };
    });
    stops.push(wsdlHost);
    const adapter = new SoapAdapter(
      connector({ wsdl: `${wsdlHost.url}/county.wsdl?key=wsdl-secret-41`, endpoint: soapServer.url }),
      {
        logger: silentLogger(),
      },
    );

    const first = failed((await adapter.send(batch([item(1)]), context()))[0]);
    available = true;
    const second = await adapter.send(batch([item(1)]), context());

    expect(first.error.failure).toBe("retriable");
    expect(first.error.reason).toBe("wsdl_unavailable");
    expect(first.error.message).toContain("404");
    expect(first.error.message).toContain(`${wsdlHost.url}/county.wsdl`);
    expect(first.error.message).not.toContain("wsdl-secret-41");
    expect(second).toEqual([{ id: "501", ok: true, reference: "CONF-A1" }]);
    expect(soapServer.calls).toHaveLength(1);
  });

  it("a missing WSDL file is retriable and names the file", async () => {
    const adapter = new SoapAdapter(connector({ wsdl: "/nonexistent/county.wsdl", endpoint: "http://127.0.0.1:9/" }), {
      logger: silentLogger(),
    });

    const outcome = failed((await adapter.send(batch([item(1)]), context()))[0]);

    expect(outcome.error.reason).toBe("wsdl_unavailable");
    expect(outcome.error.message).toContain("/nonexistent/county.wsdl");
  });

  it("an operation the WSDL does not define stops the connector for an operator", async () => {
    const server = await county();
    const adapter = new SoapAdapter(connector({ endpoint: server.url, operation: "Cancel" }), {
      logger: silentLogger(),
    });

    const outcome = failed((await adapter.send(batch([item(1)]), context()))[0]);

    expect(outcome.error.failure).toBe("attention");
    expect(outcome.error.message).toContain('"Cancel"');
    expect(server.calls).toHaveLength(0);
  });
});

describe("SoapAdapter.heartbeat", () => {
  it("is up while the service answers and down once it stops", async () => {
    const server = await county();
    const adapter = new SoapAdapter(connector({ endpoint: server.url }), { logger: silentLogger() });

    await adapter.heartbeat(new AbortController().signal);
    await server.stop();

    await expect(adapter.heartbeat(new AbortController().signal)).rejects.toMatchObject({
      failure: "retriable",
      reason: "connection_refused",
    });
  });

  it("fetches a WSDL given as a URL and is down when it answers 5xx", async () => {
    const server = await county();
    let wsdlRequests = 0;
    server.intercept((req, res) => {
      if (!req.url?.endsWith("?wsdl")) return false;
      wsdlRequests++;
      if (wsdlRequests <= 2) return false;
      res.writeHead(502);
      res.end();
      return true;
    });
    const adapter = new SoapAdapter(connector({ wsdl: server.wsdlUrl, endpoint: server.url }), {
      logger: silentLogger(),
    });

    await adapter.heartbeat(new AbortController().signal);
    const down = await adapter.heartbeat(new AbortController().signal).then(
      () => undefined,
      (error: unknown) => error,
    );

    // First heartbeat: the probe GET and the client's own load of the WSDL; second: the probe.
    expect(wsdlRequests).toBe(3);
    expect(down).toBeInstanceOf(AdapterError);
    expect((down as AdapterError).reason).toBe("wsdl_unavailable");
  });
});

describe("SOAP arguments from hostile values", () => {
  it("item 8: object values and $xml/$attributes keys never inject XML; only elements the WSDL defines are sent", async () => {
    const bodies: string[] = [];
    const server = await startSoapServer({
      wsdlFile: WSDL,
      service: "SchedulerService",
      port: "SchedulerPort",
      operation: "Reschedule",
      handler: confirm,
    });
    stops.push(server);
    server.intercept((req) => {
      let body = "";
      req.on("data", (chunk: Buffer) => {
        body += chunk.toString("utf8");
      });
      req.on("end", () => bodies.push(body));
      return false;
    });
    const adapter = new SoapAdapter(connector({ endpoint: server.url }), { logger: silentLogger() });
    const injected = "<injected>attacker-controlled element</injected>";
    const items = [
      item(1, { reason: { $xml: injected } }),
      item(2, { $xml: injected }),
      item(3, { $attributes: { evil: "1" } }),
      item(4, { attributes: { evil: "1" } }),
      item(5, { injected: "an element the WSDL does not define" }),
      item(6, { reason: "bell \u0007 and NUL \u0000" }),
      item(7, { reason: [{ $xml: injected }] }),
    ];
    const outcomes = await adapter.send(batch(items), context());
    const byId = new Map(outcomes.map((o) => [o.id, o]));
    // Nested values travel as their JSON text, escaped.
    expect(byId.get("501")?.ok).toBe(true);
    expect(byId.get("507")?.ok).toBe(true);
    for (const id of ["502", "503", "504", "505", "506"]) {
      const outcome = failed(byId.get(id));
      expect(outcome.error.failure).toBe("permanent");
      expect(outcome.error.reason).toBe("bad_payload");
    }
    await new Promise((r) => setTimeout(r, 100));
    expect(bodies.length).toBeGreaterThan(0);
    for (const body of bodies) {
      expect(body).not.toContain("<injected");
      const soapBody = /<(?:\w+:)?Body[^>]*>([\s\S]*)<\/(?:\w+:)?Body>/.exec(body)?.[1] ?? "";
      expect(soapBody).not.toBe("");
      const elements = [...soapBody.matchAll(/<(?:[A-Za-z0-9_]+:)?([A-Za-z_][\w.-]*)[\s>/]/g)].map((m) => m[1]);
      // The WSDL's Reschedule input and its three parts, nothing else.
      for (const name of elements)
        expect(["Reschedule", "RescheduleRequest", "family", "new_date", "reason"]).toContain(name);
    }
    expect(server.calls.map((c) => String(c.args.reason))).toContain(JSON.stringify({ $xml: injected }));
  });
});
