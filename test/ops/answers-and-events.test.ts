import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EssEngine } from "../../src/engine.js";
import { Gateway } from "../../src/gateway/index.js";
import { replayDeliveries } from "../../src/ledger/delivery-replay.js";
import { signedHeaders } from "../../src/ops/inbound-auth.js";
import { waitFor } from "../support/capture-fixture.js";
import { createSite, type EssSite } from "../support/ess-site.js";
import { startHttpServer, type TestHttpServer } from "../support/http-server.js";
import { capturedLogger } from "./ops-client.js";

const GIS_SECRET = "gis-answers-secret-71aa";
const EVENTS_SECRET = "events-intake-secret-0c3f";
const EVENTS_TOKEN = "events-bearer-token-5d21";

const gisConnector = (partner: string): string =>
  [
    "name: gis",
    "adapter: rest",
    "rest:",
    `  url: ${partner}/api/gis`,
    "  method: POST",
    "  timeout: 5s",
    "batch: { maxRecords: 10, maxWait: 50ms }",
    "retry: { maxAttempts: 3, initialDelay: 100ms, maxDelay: 500ms }",
    "heartbeat: { every: 1s, offlineAfter: 3 }",
    `inbound: { hmacSecret: "${GIS_SECRET}" }`,
    "",
  ].join("\n");

const PERMITS = [
  "name: permit_status",
  "source:",
  "  table: public.permits",
  "targets:",
  "  - connector: gis",
  "    format: json",
  "    fields: { permit_id: id, status: status }",
  "",
].join("\n");

const RESCHEDULE = [
  "name: visit_reschedule",
  "source:",
  "  topic: reschedule",
  "  key: [family]",
  "targets:",
  "  - connector: gis",
  "    format: json",
  "    fields: { family: family, new_date: new_date }",
  "",
].join("\n");

interface Row {
  readonly id: string;
  readonly token: string;
  readonly correlation_id: string;
  readonly state: string;
  readonly last_error: string | null;
  readonly receipt_id: string | null;
}

describe("partners answer back, applications hear the outcome and send events from any language", () => {
  let site: EssSite;
  let partner: TestHttpServer;
  let engine: EssEngine;
  let url: string;
  let gateway: Gateway;
  const log = capturedLogger();

  beforeAll(async () => {
    // The partner refuses one family with 503, for the event limited to a single attempt.
    partner = await startHttpServer((request) =>
      request.body.includes("F-ONCE") ? { status: 503, body: "{}" } : { status: 201, body: "{}" },
    );
    site = await createSite("ops-answers", () => ({
      connectors: { gis: gisConnector(partner.url) },
      mappings: { permit_status: PERMITS, visit_reschedule: RESCHEDULE },
      essYaml: `events: { hmacSecret: "${EVENTS_SECRET}", bearerToken: "${EVENTS_TOKEN}" }`,
    }));
    engine = await EssEngine.create(await site.load(), { logger: log.logger, pollMs: 25, processMetrics: false });
    url = (await engine.listen()).url;
    void engine.start();
    gateway = new Gateway({ databaseUrl: site.db.url });
  });
  afterAll(async () => {
    await gateway?.close();
    await engine?.stop();
    await partner?.stop();
    await site?.cleanup();
  });

  async function deliveryOf(where: string, params: unknown[]): Promise<Row> {
    const r = await site.db.query<Row>(
      `select id, token, correlation_id, state, last_error, receipt_id from ess.deliveries where ${where}`,
      params,
    );
    expect(r.rows).toHaveLength(1);
    return r.rows[0] as Row;
  }

  async function stateOf(id: string): Promise<string> {
    return (await deliveryOf("id = $1", [id])).state;
  }

  async function permitSent(permit: string): Promise<Row> {
    await site.db.query("insert into permits (id, status) values ($1, 'APPROVED')", [permit]);
    let row: Row | undefined;
    await waitFor(`${permit} sent`, async () => {
      const r = await site.db.query<Row>(
        "select id, token, correlation_id, state, last_error, receipt_id from ess.deliveries where ordering_key like $1",
        [`%${permit}%`],
      );
      row = r.rows[0];
      return row?.state === "sent";
    });
    return row as Row;
  }

  async function callback(
    document: Record<string, unknown>,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const body = JSON.stringify(document);
    const response = await fetch(`${url}/inbound/gis`, {
      method: "POST",
      headers: { "content-type": "application/json", ...signedHeaders(body, GIS_SECRET) },
      body,
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  async function connect(): Promise<pg.Client & { release: () => Promise<void> }> {
    const client = new pg.Client({ connectionString: site.db.url });
    await client.connect();
    return Object.assign(client, { release: () => client.end() });
  }

  async function listenOn(channel: string): Promise<{ payloads: Record<string, unknown>[]; end: () => Promise<void> }> {
    const client = new pg.Client({ connectionString: site.db.url });
    await client.connect();
    const payloads: Record<string, unknown>[] = [];
    client.on("notification", (n) => {
      if (n.channel === channel && n.payload) payloads.push(JSON.parse(n.payload) as Record<string, unknown>);
    });
    await client.query(`listen ${channel}`);
    return { payloads, end: () => client.end() };
  }

  it("a rejected answer makes the delivery dead with the partner's reason, and a replay sends it again", async () => {
    const inbound = await listenOn("ess_inbound");
    const target = await permitSent("BP-REJ");
    const answer = await callback({
      correlationId: target.correlation_id,
      status: "rejected",
      reference: "GIS-4471",
      message: "parcel 12-B is not in the county grid",
    });
    expect(answer).toEqual({
      status: 200,
      body: { state: "dead", deliveryId: target.id, correlationId: target.correlation_id, duplicate: false },
    });
    const dead = await deliveryOf("id = $1", [target.id]);
    expect(dead.state).toBe("dead");
    expect(dead.last_error).toBe("rejected by the partner (reference GIS-4471): parcel 12-B is not in the county grid");
    const audit = await site.db.query<{ error: string; detail: Record<string, unknown> }>(
      "select error, detail from ess.audit where event = 'dead' and delivery_id = $1",
      [target.id],
    );
    expect(audit.rows).toHaveLength(1);
    expect(audit.rows[0]?.detail).toMatchObject({ status: "rejected", reference: "GIS-4471", previousState: "sent" });
    await waitFor("ess_inbound heard", async () => inbound.payloads.length > 0);
    expect(inbound.payloads[0]).toMatchObject({
      connector: "gis",
      correlationId: target.correlation_id,
      status: "rejected",
      deliveryId: target.id,
      reference: "GIS-4471",
    });
    await inbound.end();

    const sentBefore = partner.requests.filter((r) => r.body.includes("BP-REJ")).length;
    const client = await connect();
    try {
      expect((await replayDeliveries(client, "ess", { kind: "dead", connector: "gis" })).ids).toEqual([target.id]);
    } finally {
      await client.release();
    }
    await waitFor("the replayed delivery sent", async () => (await stateOf(target.id)) === "sent");
    expect(partner.requests.filter((r) => r.body.includes("BP-REJ")).length).toBe(sentBefore + 1);
  });

  it("an answer quoting no known delivery is stored and reported, not dropped", async () => {
    const answer = await callback({ correlationId: "ess-ffffffffffffffffffffffff", status: "accepted", ref: 9 });
    expect(answer.status).toBe(404);
    expect(String(answer.body.error)).toMatch(/stored for an operator/);
    const stored = await site.db.query(
      "select connector, status, reference from ess.inbound_events where delivery_id is null and correlation = $1",
      ["ess-ffffffffffffffffffffffff"],
    );
    expect(stored.rows).toEqual([{ connector: "gis", status: "accepted", reference: "9" }]);
    expect(log.lines().some((l) => String(l.msg).startsWith("inbound callback rejected") && l.inboundEvent)).toBe(true);
  });

  it("an answer with a status other than accepted or rejected is refused and stored nowhere", async () => {
    const target = await permitSent("BP-ODD");
    const before = await site.db.query("select count(*)::int as n from ess.inbound_events");
    const answer = await callback({ correlationId: target.correlation_id, status: "maybe" });
    expect(answer.status).toBe(400);
    expect(String(answer.body.error)).toMatch(/accepted.*rejected/);
    expect((await site.db.query("select count(*)::int as n from ess.inbound_events")).rows).toEqual(before.rows);
    expect(await stateOf(target.id)).toBe("sent");
  });

  it("ess.send() in a transaction that rolls back sends nothing; one that commits is sent once", async () => {
    const client = await connect();
    let rolledBack: string;
    let committed: string;
    try {
      await client.query("begin");
      const r1 = await client.query<{ id: string }>(
        `select ess.send('reschedule', '{"family":"F-ROLLBACK","new_date":"2024-05-04"}') as id`,
      );
      rolledBack = r1.rows[0]?.id as string;
      await client.query("rollback");
      await client.query("begin");
      const r2 = await client.query<{ id: string }>(
        `select ess.send('reschedule', '{"family":"F-COMMIT","new_date":"2024-05-05"}', '{"traceId":"trace-77"}') as id`,
      );
      committed = r2.rows[0]?.id as string;
      await client.query("commit");
    } finally {
      await client.release();
    }
    await waitFor("the committed event sent", async () => (await gateway.receipt(committed)) === "sent");
    // A later change proves the stream went past the rolled-back transaction.
    await permitSent("BP-AFTER-ROLLBACK");
    expect(await gateway.receiptDetail(rolledBack)).toMatchObject({
      state: "pending",
      captured: false,
      deliveries: [],
    });
    expect(partner.requests.filter((r) => r.body.includes("F-ROLLBACK"))).toHaveLength(0);
    const sent = partner.requests.filter((r) => r.body.includes("F-COMMIT"));
    expect(sent).toHaveLength(1);
    expect(JSON.parse(sent[0]?.body ?? "{}")).toEqual({ family: "F-COMMIT", new_date: "2024-05-05" });
    const delivery = await deliveryOf("receipt_id = $1", [committed]);
    expect(delivery.state).toBe("sent");
    const queued = await site.db.query<{ detail: Record<string, unknown> }>(
      "select detail from ess.audit where event = 'queued' and delivery_id = $1",
      [delivery.id],
    );
    expect(queued.rows[0]?.detail).toMatchObject({ receiptId: committed, traceId: "trace-77" });
    expect(sent[0]?.headers["x-trace-id"]).toBe("trace-77");
    const attempted = await site.db.query<{ detail: Record<string, unknown> }>(
      "select detail from ess.audit where event = 'attempted' and delivery_id = $1",
      [delivery.id],
    );
    expect(attempted.rows[0]?.detail).toMatchObject({ traceId: "trace-77" });
  });

  it("an event's maxAttempts ends its retries sooner than the connector's policy", async () => {
    const r = await site.db.query<{ id: string }>(
      `select ess.send('reschedule', '{"family":"F-ONCE","new_date":"2024-05-06"}', '{"maxAttempts":1,"correlationId":"app-42"}') as id`,
    );
    const receiptId = r.rows[0]?.id as string;
    await waitFor("the event dead after one attempt", async () => (await gateway.receipt(receiptId)) === "dead");
    const delivery = await site.db.query<{ attempts: number; app_correlation_id: string }>(
      "select attempts, app_correlation_id from ess.deliveries where receipt_id = $1",
      [receiptId],
    );
    expect(delivery.rows).toEqual([{ attempts: 1, app_correlation_id: "app-42" }]);
    expect(partner.requests.filter((q) => q.body.includes("F-ONCE"))).toHaveLength(1);
  });

  it("ess.send() refuses a bad topic, a payload that is not an object and unknown options", async () => {
    const cases: [string, RegExp][] = [
      [`select ess.send('bad topic!', '{}')`, /invalid topic/],
      [`select ess.send('reschedule', '[1,2]')`, /payload must be a JSON object/],
      [`select ess.send('reschedule', '{}', '{"retries":3}')`, /unknown option/],
      [`select ess.send('reschedule', '{}', '{"maxAttempts":0}')`, /maxAttempts/],
    ];
    for (const [sql, message] of cases) {
      await expect(site.db.query(sql), sql).rejects.toMatchObject({
        code: "22023",
        message: expect.stringMatching(message),
      });
    }
  });

  it("LISTEN ess_receipts hears sent then confirmed, and Gateway.watch follows the same receipt", async () => {
    const receipts = await listenOn("ess_receipts");
    const receipt = await gateway.send({ topic: "reschedule", payload: { family: "F-WATCH", new_date: "2024-06-01" } });
    const seen: string[] = [];
    const watching = (async () => {
      for await (const update of gateway.watch(receipt.id, { pollMs: 60_000 })) seen.push(update.state);
    })();
    await waitFor("the event sent", async () => (await gateway.receipt(receipt.id)) === "sent");
    const delivery = await deliveryOf("receipt_id = $1", [receipt.id]);
    expect((await callback({ token: delivery.token, status: "accepted" })).status).toBe(200);
    // The watch ends by itself once the receipt is confirmed; its fallback poll is a minute, so
    // only the notifications can have woken it in time.
    await watching;
    expect(seen.at(-1)).toBe("confirmed");
    expect(seen).toContain("sent");
    const mine = receipts.payloads.filter((p) => p.receiptId === receipt.id).map((p) => p.state);
    expect(mine).toEqual(["pending", "sent", "confirmed"]);
    await receipts.end();
  });

  it("POST /events with a bad signature is refused; with a good one it is delivered, and GET /receipts answers", async () => {
    const body = JSON.stringify({ topic: "reschedule", payload: { family: "F-HTTP", new_date: "2024-07-01" } });
    const bad = await fetch(`${url}/events`, {
      method: "POST",
      headers: signedHeaders(body, "not-the-secret"),
      body,
    });
    expect(bad.status).toBe(401);
    const unsigned = await fetch(`${url}/events`, { method: "POST", body });
    expect(unsigned.status).toBe(401);
    const good = await fetch(`${url}/events`, {
      method: "POST",
      headers: signedHeaders(body, EVENTS_SECRET),
      body,
    });
    expect(good.status).toBe(202);
    const { receiptId } = (await good.json()) as { receiptId: string };
    expect(receiptId).toMatch(/^[0-9a-f-]{36}$/);
    await waitFor("the HTTP event delivered", async () => (await gateway.receipt(receiptId)) === "sent");
    expect(partner.requests.filter((r) => r.body.includes("F-HTTP"))).toHaveLength(1);
    expect(partner.requests.filter((r) => r.body.includes("F-HTTP") && bad.status !== 401)).toHaveLength(0);

    const answer = await fetch(`${url}/receipts/${receiptId}`, {
      headers: { authorization: `Bearer ${EVENTS_TOKEN}` },
    });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({
      receiptId,
      state: "sent",
      captured: true,
      deliveries: [{ connector: "gis", state: "sent", attempts: 1 }],
    });
    expect((await fetch(`${url}/receipts/${receiptId}`)).status).toBe(401);
    const invalid = await fetch(`${url}/events`, {
      method: "POST",
      headers: { authorization: `Bearer ${EVENTS_TOKEN}` },
      body: JSON.stringify({ topic: "reschedule", payload: [1] }),
    });
    expect(invalid.status).toBe(400);
    expect(String(((await invalid.json()) as { error: string }).error)).toMatch(/payload/);
  });

  it("Gateway.pause, resume and failed act like essctl, with the same audit rows", async () => {
    expect(await gateway.pause("gis")).toBe(true);
    expect(await gateway.pause("gis")).toBe(false);
    await site.db.query("insert into permits (id, status) values ('BP-HELD', 'APPROVED')");
    await waitFor("the held delivery queued", async () => {
      const r = await site.db.query("select 1 from ess.deliveries where ordering_key like '%BP-HELD%'");
      return r.rows.length === 1;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await deliveryOf("ordering_key like $1", ["%BP-HELD%"])).state).toBe("pending");
    expect(await gateway.resume("gis")).toBe(true);
    await permitSent("BP-HELD-2");
    const audit = await site.db.query<{ event: string }>(
      "select event from ess.audit where connector = 'gis' and event in ('paused', 'resumed') order by id",
    );
    expect(audit.rows.map((r) => r.event)).toEqual(["paused", "resumed"]);

    const rejected = await permitSent("BP-FAILED");
    await callback({ correlationId: rejected.correlation_id, status: "rejected", message: "duplicate filing" });
    const failed = await gateway.failed({ since: new Date(Date.now() - 60_000), connector: "gis" });
    expect(failed.map((f) => f.id)).toContain(rejected.id);
    expect(failed.find((f) => f.id === rejected.id)?.lastError).toMatch(/duplicate filing/);
    expect(await gateway.failed({ since: new Date(Date.now() + 60_000) })).toEqual([]);
  });

  it("replay --last N re-queues the connector's last N deliveries with their tokens", async () => {
    const latest = await site.db.query<{ id: string; token: string }>(
      "select id, token from ess.deliveries where connector = 'gis' order by id desc limit 2",
    );
    const client = await connect();
    try {
      const result = await replayDeliveries(client, "ess", { kind: "last", connector: "gis", count: 2 });
      expect([...result.ids].sort()).toEqual(latest.rows.map((r) => r.id).sort());
    } finally {
      await client.release();
    }
    for (const row of latest.rows) {
      await waitFor(`delivery ${row.id} sent again`, async () => (await stateOf(row.id)) === "sent");
      const attempts = await site.db.query("select 1 from ess.audit where event = 'replayed' and token = $1", [
        row.token,
      ]);
      expect(attempts.rows).toHaveLength(1);
    }
  });
});
