import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EssEngine } from "../../src/engine.js";
import { signedHeaders } from "../../src/ops/inbound-auth.js";
import { waitFor } from "../support/capture-fixture.js";
import { createSite, type EssSite, fileDropConnector } from "../support/ess-site.js";
import { startHttpServer, type TestHttpServer } from "../support/http-server.js";
import { capturedLogger, scrape } from "./ops-client.js";

const GIS_SECRET = "gis-hmac-shared-secret-4b1d";
const COUNTY_TOKEN = "county-bearer-token-9e2c";

function restConnector(name: string, url: string, inbound: string): string {
  return [
    `name: ${name}`,
    "adapter: rest",
    "rest:",
    `  url: ${url}/api/${name}`,
    "  method: POST",
    "  timeout: 5s",
    `  health: ${url}/health`,
    "batch: { maxRecords: 10, maxWait: 50ms }",
    "heartbeat: { every: 1s, offlineAfter: 3 }",
    `inbound: ${inbound}`,
    "",
  ].join("\n");
}

const PERMITS_TO_ALL = [
  "name: permit_status",
  "source:",
  "  table: public.permits",
  "targets:",
  "  - connector: city_drop",
  "    format: fixed-width",
  "    fields:",
  "      PERMIT_ID: id | width:10",
  "  - connector: gis",
  "    format: json",
  "    fields: { permit_id: id, status: status }",
  "  - connector: county",
  "    format: json",
  "    fields: { permit_id: id, status: status }",
  "",
].join("\n");

interface Delivery {
  readonly id: string;
  readonly token: string;
  readonly correlation_id: string;
  readonly state: string;
}

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Record<string, unknown>;
}

describe("the inbound lane: POST /inbound/<connector>", () => {
  let site: EssSite;
  let partner: TestHttpServer;
  let engine: EssEngine;
  let url: string;
  const log = capturedLogger();

  beforeAll(async () => {
    partner = await startHttpServer(() => ({ status: 201, body: "{}" }));
    site = await createSite("ops-inbound", ({ dropDir }) => ({
      connectors: {
        city_drop: fileDropConnector("city_drop", dropDir),
        gis: restConnector("gis", partner.url, `{ hmacSecret: "${GIS_SECRET}" }`),
        county: restConnector("county", partner.url, `{ bearerToken: "${COUNTY_TOKEN}" }`),
      },
      mappings: { permit_status: PERMITS_TO_ALL },
    }));
    engine = await EssEngine.create(await site.load(), { logger: log.logger, pollMs: 25, processMetrics: false });
    url = (await engine.listen()).url;
    void engine.start();
    await site.db.query("insert into permits (id, status) select 'BP-' || i, 'APPROVED' from generate_series(1, 4) i");
    await waitFor("12 deliveries sent", async () => {
      const r = await site.db.query<{ n: string }>("select count(*) as n from ess.deliveries where state = 'sent'");
      return Number(r.rows[0]?.n) === 12;
    });
  });
  afterAll(async () => {
    await engine?.stop();
    await partner?.stop();
    await site?.cleanup();
  });

  async function delivery(connector: string, key: string): Promise<Delivery> {
    const r = await site.db.query<Delivery>(
      "select id, token, correlation_id, state from ess.deliveries where connector = $1 and ordering_key like $2",
      [connector, `%${key}%`],
    );
    expect(r.rows).toHaveLength(1);
    return r.rows[0] as Delivery;
  }

  async function post(connector: string, body: string, headers: Record<string, string> = {}): Promise<Answer> {
    const response = await fetch(`${url}/inbound/${connector}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body,
    });
    return {
      status: response.status,
      headers: response.headers,
      body: (await response.json()) as Record<string, unknown>,
    };
  }

  const signed = (body: string, secret = GIS_SECRET) => signedHeaders(body, secret);

  /** Everything the lane may write: inbound events, 'confirmed' audit rows, confirmed deliveries. */
  async function stored(): Promise<{ events: number; audit: number; confirmed: number }> {
    const r = await site.db.query<{ events: string; audit: string; confirmed: string }>(
      `select (select count(*) from ess.inbound_events) as events,
              (select count(*) from ess.audit where event = 'confirmed') as audit,
              (select count(*) from ess.deliveries where state = 'confirmed') as confirmed`,
    );
    const row = r.rows[0];
    return { events: Number(row?.events), audit: Number(row?.audit), confirmed: Number(row?.confirmed) };
  }

  it("an HMAC-signed callback quoting the correlation id confirms the delivery, stores the event and audits it once", async () => {
    const target = await delivery("gis", "BP-1");
    const body = JSON.stringify({
      correlationId: target.correlation_id,
      status: "accepted",
      at: "2024-05-04T10:00:00Z",
    });
    const answer = await post("gis", body, signed(body));
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      state: "confirmed",
      deliveryId: target.id,
      correlationId: target.correlation_id,
      duplicate: false,
    });
    const after = await site.db.query<{ state: string; confirmed_at: Date | null }>(
      "select state, confirmed_at from ess.deliveries where id = $1",
      [target.id],
    );
    expect(after.rows[0]?.state).toBe("confirmed");
    expect(after.rows[0]?.confirmed_at).toBeInstanceOf(Date);
    const audit = await site.db.query<{
      token: string;
      connector: string;
      detail: { via: string; previousState: string };
    }>("select token, connector, detail from ess.audit where event = 'confirmed' and delivery_id = $1", [target.id]);
    expect(audit.rows).toHaveLength(1);
    expect(audit.rows[0]).toMatchObject({
      token: target.token,
      connector: "gis",
      detail: { via: "hmac", previousState: "sent" },
    });
    const events = await site.db.query<{ connector: string; correlation: string; body: unknown }>(
      "select connector, correlation, body from ess.inbound_events where delivery_id = $1",
      [target.id],
    );
    expect(events.rows).toEqual([{ connector: "gis", correlation: target.correlation_id, body: JSON.parse(body) }]);

    // A partner that calls back twice: the same answer, the event kept, no second audit row. Its
    // retry is signed anew (a later timestamp): the very same signature would be a replay.
    const again = await post("gis", body, signedHeaders(body, GIS_SECRET, Date.now() + 1_000));
    expect(again.status).toBe(200);
    expect(again.body.duplicate).toBe(true);
    const twice = await site.db.query<{ n: string }>(
      "select count(*) as n from ess.audit where event = 'confirmed' and delivery_id = $1",
      [target.id],
    );
    expect(Number(twice.rows[0]?.n)).toBe(1);
    expect((await stored()).events).toBe(2);
  });

  it("a bearer-token callback quoting the idempotency token confirms the delivery", async () => {
    const target = await delivery("county", "BP-2");
    const answer = await post("county", JSON.stringify({ token: target.token, outcome: "scheduled" }), {
      authorization: `Bearer ${COUNTY_TOKEN}`,
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ state: "confirmed", deliveryId: target.id });
    expect((await delivery("county", "BP-2")).state).toBe("confirmed");
    const audit = await site.db.query<{ detail: { via: string } }>(
      "select detail from ess.audit where event = 'confirmed' and delivery_id = $1",
      [target.id],
    );
    expect(audit.rows[0]?.detail.via).toBe("bearer");
  });

  it("unauthenticated, malformed and oversized callbacks are rejected and stored nowhere", async () => {
    const before = await stored();
    const gis = await delivery("gis", "BP-3");
    const county = await delivery("county", "BP-3");
    const good = JSON.stringify({ correlationId: gis.correlation_id });
    const cases: { name: string; send: () => Promise<Answer>; status: number; error: RegExp }[] = [
      { name: "no credentials", send: () => post("gis", good), status: 401, error: /authentication required/ },
      {
        name: "a signature made with another secret",
        send: () => post("gis", good, signed(good, "not-the-secret")),
        status: 401,
        error: /invalid signature/,
      },
      {
        name: "a signature over another body",
        send: () => post("gis", good, signed(JSON.stringify({ correlationId: county.correlation_id }))),
        status: 401,
        error: /invalid signature/,
      },
      {
        name: "a wrong bearer token",
        send: () => post("county", good, { authorization: `Bearer ${COUNTY_TOKEN}-guess` }),
        status: 401,
        error: /invalid signature or token/,
      },
      {
        name: "an HMAC signature where the connector expects a bearer token",
        send: () => post("county", good, signed(good)),
        status: 401,
        error: /authentication required/,
      },
      {
        name: "a body that is not JSON",
        send: () => post("gis", "ok=1", signed("ok=1")),
        status: 400,
        error: /not JSON/,
      },
      {
        name: "a body naming no delivery",
        send: () => post("gis", '{"status":"applied"}', signed('{"status":"applied"}')),
        status: 400,
        error: /names no delivery/,
      },
      {
        name: "a body the ledger cannot store",
        send: () => {
          const body = JSON.stringify({ correlationId: gis.correlation_id, note: "nul \u0000 inside" });
          return post("gis", body, signed(body));
        },
        status: 400,
        error: /cannot store/,
      },
      {
        name: "an unknown connector",
        send: () => post("nobody", good, signed(good)),
        status: 404,
        error: /no such connector/,
      },
      {
        name: "a connector without an inbound lane",
        send: () => post("city_drop", good, signed(good)),
        status: 403,
        error: /accepts no inbound callbacks/,
      },
      {
        name: "a body over 1 MiB",
        send: () => {
          const body = JSON.stringify({ correlationId: gis.correlation_id, padding: "x".repeat(1024 * 1024) });
          return post("gis", body, signed(body));
        },
        status: 413,
        error: /larger than 1048576 bytes/,
      },
    ];
    for (const c of cases) {
      const answer = await c.send();
      expect({ case: c.name, status: answer.status }).toEqual({ case: c.name, status: c.status });
      expect(String(answer.body.error), c.name).toMatch(c.error);
    }
    const challenge = await post("county", good);
    expect(challenge.headers.get("www-authenticate")).toBe('Bearer realm="ess-inbound"');
    expect((await fetch(`${url}/inbound/gis`)).status).toBe(405);

    expect(await stored()).toEqual(before);
    expect((await delivery("gis", "BP-3")).state).toBe("sent");
  });

  it("counts callbacks by outcome, and never shows the shared secrets", async () => {
    const metrics = await scrape(url);
    expect(metrics.value("ess_inbound_callbacks_total", { connector: "gis", outcome: "confirmed" })).toBe(1);
    expect(metrics.value("ess_inbound_callbacks_total", { connector: "gis", outcome: "duplicate" })).toBe(1);
    expect(metrics.value("ess_inbound_callbacks_total", { connector: "county", outcome: "confirmed" })).toBe(1);
    expect(metrics.value("ess_inbound_callbacks_total", { connector: "gis", outcome: "unauthenticated" })).toBe(3);
    expect(metrics.value("ess_inbound_callbacks_total", { connector: "", outcome: "unknown_connector" })).toBe(1);
    const ledger = await site.db.query<{ text: string }>(
      "select (select coalesce(string_agg(a::text, ''), '') from ess.audit a) || (select coalesce(string_agg(e::text, ''), '') from ess.inbound_events e) as text",
    );
    for (const secret of [GIS_SECRET, COUNTY_TOKEN]) {
      expect(log.text()).not.toContain(secret);
      expect(metrics.text).not.toContain(secret);
      expect(ledger.rows[0]?.text).not.toContain(secret);
    }
    // Rejections are logged with their reason, accepted ones with the delivery's token and correlation id.
    const lines = log.lines();
    expect(lines.filter((l) => String(l.msg).startsWith("inbound callback rejected")).length).toBeGreaterThanOrEqual(
      11,
    );
    const confirmed = lines.find((l) => l.msg === "delivery confirmed by the partner");
    expect(confirmed).toMatchObject({
      connector: "gis",
      token: expect.stringMatching(/^ess1-/),
      correlationId: expect.stringMatching(/^ess-/),
    });
  });
});
