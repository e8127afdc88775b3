// The HTTP listeners under hostile input, against a real `essctl start`: the process stays up and
// /healthz answers throughout; partners reach only their endpoints, operators only theirs.
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signedHeaders } from "../../src/ops/inbound-auth.js";
import { type EssctlProcess, startEssctl } from "../partners/essctl-start.js";
import { waitFor } from "../support/capture-fixture.js";
import { createSite, type EssSite, permitStatusMapping } from "../support/ess-site.js";
import { startHttpServer, type TestHttpServer } from "../support/http-server.js";

const SECRET = "partner-callback-secret-7f3a";

function restConnector(url: string): string {
  return [
    "name: gis",
    "adapter: rest",
    "rest:",
    `  url: ${url}/api/permits`,
    "  method: POST",
    "  timeout: 5s",
    "batch: { maxRecords: 10, maxWait: 50ms }",
    "retry: { maxAttempts: 3, initialDelay: 100ms, maxDelay: 200ms }",
    `inbound: { hmacSecret: "${SECRET}" }`,
    "",
  ].join("\n");
}

/** The URLs `essctl start` logged for its listeners. */
function listenerUrls(stdout: string): { operators?: string; partners?: string; single?: string } {
  const out: { operators?: string; partners?: string; single?: string } = {};
  for (const line of stdout.split("\n")) {
    if (!line.startsWith("{")) continue;
    const entry = JSON.parse(line) as { msg?: string; url?: string };
    if (!entry.url) continue;
    if (entry.msg?.startsWith("operators'")) out.operators = entry.url;
    else if (entry.msg?.startsWith("partners'")) out.partners = entry.url;
    else if (entry.msg?.startsWith("HTTP endpoints listening")) out.single = entry.url;
  }
  return out;
}

/** Writes raw bytes and returns what came back before the server closed (or `waitMs` passed). */
function rawExchange(url: string, bytes: string | Buffer, waitMs = 5_000): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let received = "";
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(received);
    }, waitMs);
    socket.on("data", (d: Buffer) => {
      received += d.toString("latin1");
    });
    socket.on("error", (error: NodeJS.ErrnoException) => {
      // A reset after the server answered is how Node drops a bad client; what was read stands.
      if (error.code === "ECONNRESET" || error.code === "EPIPE") return;
      clearTimeout(timer);
      reject(error);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(received);
    });
    socket.write(bytes);
  });
}

async function healthy(url: string): Promise<number> {
  const started = Date.now();
  const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5_000) });
  expect(response.status).toBe(200);
  return Date.now() - started;
}

async function stillRunning(ess: EssctlProcess): Promise<void> {
  await expect(ess.exited(100)).rejects.toThrow(/still running/);
}

describe("one listener (http.listen alone)", () => {
  let site: EssSite;
  let partner: TestHttpServer;

  beforeAll(async () => {
    partner = await startHttpServer(() => ({ status: 201, body: "{}" }));
    site = await createSite("hostile-single", () => ({
      connectors: { gis: restConnector(partner.url) },
      mappings: { permit_status: permitStatusMapping("gis", "json") },
    }));
  });
  afterAll(async () => {
    await partner?.stop();
    await site?.cleanup();
  });

  it("item 1: a request line with an invalid URL is answered 400 and essctl start keeps serving", async () => {
    const ess = startEssctl(["start", "--config", site.configPath]);
    try {
      await waitFor("the listener", async () => listenerUrls(ess.stdout()).single !== undefined, 30_000);
      const url = listenerUrls(ess.stdout()).single as string;
      const answer = await rawExchange(url, "GET http://a:99999/ HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
      expect(answer).toMatch(/^HTTP\/1\.1 400/);
      await new Promise((r) => setTimeout(r, 500));
      await stillRunning(ess);
      await healthy(url);
    } finally {
      const exit = await ess.terminate();
      expect(exit.code).toBe(0);
    }
  }, 60_000);

  it("item 3: essctl start --no-capture keeps delivering until SIGTERM, then exits 0", async () => {
    const ess = startEssctl(["start", "--no-capture", "--config", site.configPath]);
    try {
      await waitFor("ESS started", async () => ess.stdout().includes('"ESS started"'), 30_000);
      const url = listenerUrls(ess.stdout()).single as string;
      await new Promise((r) => setTimeout(r, 3_000));
      await stillRunning(ess);
      await healthy(url);
      // It delivers: a delivery queued by another (capturing) process is sent by this one.
      const capture = startEssctl(["start", "--config", site.configPath]);
      try {
        await site.db.query("insert into permits (id, status) values ('NC-1', 'APPROVED')");
        await waitFor("the delivery to be sent", async () => {
          const r = await site.db.query<{ state: string }>(
            "select state from ess.deliveries where ordering_key like '%NC-1%'",
          );
          return r.rows[0]?.state === "sent";
        });
      } finally {
        await capture.terminate();
      }
      await stillRunning(ess);
    } finally {
      const exit = await ess.terminate();
      expect(exit.code).toBe(0);
      expect(ess.stdout()).toContain('"ESS stopped"');
    }
  }, 90_000);
});

describe("the partners' listener apart (http.inbound.listen) under hostile input", () => {
  let site: EssSite;
  let partner: TestHttpServer;
  let ess: EssctlProcess;
  let operators: string;
  let partners: string;

  beforeAll(async () => {
    partner = await startHttpServer(() => ({ status: 201, body: "{}" }));
    site = await createSite("hostile-split", () => ({
      connectors: { gis: restConnector(partner.url) },
      mappings: { permit_status: permitStatusMapping("gis", "json") },
      httpInbound: "{ listen: 127.0.0.1:0 }",
    }));
    ess = startEssctl(["start", "--config", site.configPath]);
    await waitFor(
      "both listeners",
      async () => {
        const urls = listenerUrls(ess.stdout());
        return urls.operators !== undefined && urls.partners !== undefined;
      },
      30_000,
    );
    const urls = listenerUrls(ess.stdout());
    operators = urls.operators as string;
    partners = urls.partners as string;
  }, 60_000);
  afterAll(async () => {
    if (ess) {
      const exit = await ess.terminate();
      expect(exit.code).toBe(0);
    }
    await partner?.stop();
    await site?.cleanup();
  });

  it("item 9: /metrics and /readyz are served to operators only, /inbound to partners only", async () => {
    expect(operators).not.toBe(partners);
    expect((await fetch(`${partners}/metrics`)).status).toBe(404);
    expect((await fetch(`${partners}/readyz`)).status).toBe(404);
    expect((await fetch(`${operators}/metrics`)).status).toBe(200);
    const body = "{}";
    expect(
      (await fetch(`${operators}/inbound/gis`, { method: "POST", body, headers: signedHeaders(body, SECRET) })).status,
    ).toBe(404);
    expect(
      (await fetch(`${partners}/inbound/gis`, { method: "POST", body, headers: signedHeaders(body, SECRET) })).status,
    ).toBe(400);
  });

  it("malformed request lines, slow headers, oversized and deeply nested bodies, replayed and stale signatures: the process stays up and /healthz answers throughout", async () => {
    const baseline = await healthy(partners);
    const malformed = [
      "GET http://a:99999/ HTTP/1.1\r\nHost: a\r\n\r\n",
      "GARBAGE\r\n\r\n",
      "GET / HTTP/9.9\r\n\r\n",
      "GET /healthz HTTP/1.1\r\nno colon here\r\n\r\n",
      `GET /healthz HTTP/1.1\r\nHost: a\r\nX-Big: ${"a".repeat(100_000)}\r\n\r\n`,
      Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x00, 0x00, 0x00, 0x0d, 0x0a, 0x0d, 0x0a]),
      "POST /inbound/gis HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nzzzzz",
      "GET /%E0%A4%A HTTP/1.1\r\nHost: a\r\n\r\n",
      "POST /inbound/%ff%fe HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
    ];
    for (const request of malformed) {
      const answer = await rawExchange(partners, request);
      expect(answer === "" || /^HTTP\/1\.[01] [0-9]{3}/.test(answer)).toBe(true);
      await healthy(partners);
    }

    // Slow headers: sockets that dribble a header byte by byte and never finish.
    const { hostname, port } = new URL(partners);
    const slow = Array.from({ length: 20 }, () => {
      const socket = connect(Number(port), hostname);
      socket.on("error", () => undefined);
      socket.write("POST /inbound/gis HTTP/1.1\r\nHost: a\r\nX-Slow: ");
      return socket;
    });
    const dribble = setInterval(() => {
      for (const s of slow) if (!s.destroyed) s.write("a");
    }, 200);
    try {
      for (let i = 0; i < 5; i++) {
        const took = await healthy(partners);
        // Relative to the calm baseline: slow clients must not starve anyone else.
        expect(took).toBeLessThan(Math.max(2_000, baseline * 20));
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      clearInterval(dribble);
      for (const s of slow) s.destroy();
    }

    // Oversized body: refused with 413 before it is all read.
    const huge = "x".repeat(3 * 1024 * 1024);
    const tooLarge = await fetch(`${partners}/inbound/gis`, {
      method: "POST",
      body: huge,
      headers: { "content-type": "application/json", ...signedHeaders(huge, SECRET) },
    }).catch((error: unknown) => ({ status: `connection dropped: ${String(error)}` }));
    expect([413, "connection dropped"]).toContain(
      typeof tooLarge.status === "number" ? tooLarge.status : "connection dropped",
    );
    await healthy(partners);

    // Deeply nested JSON, authenticated, in both lanes.
    const deep = `${"[".repeat(200_000)}${"]".repeat(200_000)}`;
    const deepObject = `{"token":${'{"a":'.repeat(50_000)}1${"}".repeat(50_000)}}`;
    for (const body of [deep, deepObject]) {
      const answer = await fetch(`${partners}/inbound/gis`, {
        method: "POST",
        body,
        headers: { "content-type": "application/json", ...signedHeaders(body, SECRET) },
      });
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(answer.status).toBeLessThan(500);
      await healthy(partners);
    }

    // A signed callback (its correlation id is unknown: stored for an operator), then replayed.
    const callback = JSON.stringify({ correlationId: "ess-000000000000000000000000", status: "accepted" });
    const headers = { "content-type": "application/json", ...signedHeaders(callback, SECRET) };
    const first = await fetch(`${partners}/inbound/gis`, { method: "POST", body: callback, headers });
    expect(first.status).toBe(404);
    for (let i = 0; i < 5; i++) {
      const replayed = await fetch(`${partners}/inbound/gis`, { method: "POST", body: callback, headers });
      expect(replayed.status).toBe(401);
      expect(((await replayed.json()) as { error: string }).error).toMatch(/already used/);
    }
    const stale = await fetch(`${partners}/inbound/gis`, {
      method: "POST",
      body: callback,
      headers: { "content-type": "application/json", ...signedHeaders(callback, SECRET, Date.now() - 10 * 60_000) },
    });
    expect(stale.status).toBe(401);
    expect(((await stale.json()) as { error: string }).error).toMatch(/away from this server's clock/);
    const stored = await site.db.query<{ n: number }>("select count(*)::int as n from ess.inbound_events");
    expect(stored.rows[0]?.n).toBe(1);

    await stillRunning(ess);
    await healthy(partners);
    await healthy(operators);
  }, 120_000);
});
