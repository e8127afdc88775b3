// The Gateway with a running engine: the SPEC §5 example, the transactional outbox, receipts and typed errors.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EssEngine } from "../../src/engine.js";
import {
  Gateway,
  GatewayDatabaseError,
  GatewaySetupError,
  InvalidEventError,
  InvalidReceiptIdError,
} from "../../src/index.js";
import { silentLogger } from "../../src/ops/logger.js";
import { waitFor } from "../support/capture-fixture.js";
import { createSite, type EssSite } from "../support/ess-site.js";
import { type ReceivedRequest, startHttpServer, type TestHttpServer } from "../support/http-server.js";

function restConnector(name: string, url: string): string {
  return [
    `name: ${name}`,
    "adapter: rest",
    "rest:",
    `  url: ${url}`,
    "  method: POST",
    "  timeout: 5s",
    "batch: { maxRecords: 10, maxWait: 20ms }",
    "retry: { maxAttempts: 2, initialDelay: 100ms, maxDelay: 200ms }",
    "heartbeat: { every: 1s, offlineAfter: 3 }",
    "",
  ].join("\n");
}

function topicMapping(name: string, topic: string, connectors: readonly string[]): string {
  return [
    `name: ${name}`,
    "source:",
    `  topic: ${topic}`,
    "  key: [family]",
    "targets:",
    ...connectors.flatMap((c) => [
      `  - connector: ${c}`,
      "    format: json",
      "    fields: { family: family, new_date: new_date }",
    ]),
    "",
  ].join("\n");
}

/** Families the partner received at a path (heartbeats carry no body). */
function familiesAt(requests: readonly ReceivedRequest[], path: string): string[] {
  return requests
    .filter((r) => r.method === "POST" && r.url === path)
    .map((r) => (JSON.parse(r.body) as { family: string }).family);
}

describe("Gateway: application events through a running engine", () => {
  let site: EssSite;
  let engine: EssEngine;
  let partner: TestHttpServer;
  let gateway: Gateway;
  /** Replies to the scheduler wait while this is set (to watch a receipt before the partner answers). */
  let hold: Promise<void> | undefined;

  beforeAll(async () => {
    partner = await startHttpServer(async (request) => {
      if (request.url.startsWith("/reject")) return { status: 400, body: "unknown family" };
      if (hold) await hold;
      return { status: 201, body: "{}" };
    });
    site = await createSite("gateway", () => ({
      connectors: {
        scheduler: restConnector("scheduler", `${partner.url}/scheduler`),
        archive: restConnector("archive", `${partner.url}/reject`),
      },
      mappings: {
        visit_reschedule: topicMapping("visit_reschedule", "reschedule", ["scheduler"]),
        visit_cancel: topicMapping("visit_cancel", "cancel", ["scheduler", "archive"]),
      },
    }));
    engine = await EssEngine.create(await site.load(), { logger: silentLogger(), pollMs: 25 });
    void engine.start();
    gateway = new Gateway({ databaseUrl: site.db.url });
  });
  afterAll(async () => {
    await gateway?.close();
    await engine?.stop();
    await partner?.stop();
    await site?.cleanup();
  });

  it("the SPEC example works as written: send returns a pending receipt that later reads sent", async () => {
    const databaseUrl = site.db.url;
    let release: () => void = () => undefined;
    hold = new Promise((resolve) => {
      release = resolve;
    });
    try {
      const gw = new Gateway({ databaseUrl });
      const receipt = await gw.send({ topic: "reschedule", payload: { family: "A123", new_date: "2024-05-04" } });
      expect(receipt.state).toBe("pending");
      expect(receipt.id).toMatch(/^[0-9a-f-]{36}$/);
      // Captured and on its way, the partner has not answered yet: still pending.
      await waitFor("the event's delivery to be queued", async () => {
        const detail = await gw.receiptDetail(receipt.id);
        return detail.captured && detail.deliveries.length === 1;
      });
      expect(await gw.receipt(receipt.id)).toBe("pending");
      release();
      await waitFor("the receipt to read sent", async () => (await gw.receipt(receipt.id)) === "sent");
      const request = partner.requests.find((r) => r.url === "/scheduler" && r.body.includes('"A123"'));
      expect(JSON.parse(request?.body ?? "null")).toEqual({ family: "A123", new_date: "2024-05-04" });
      const detail = await gw.receiptDetail(receipt.id);
      expect(detail.deliveries).toMatchObject([{ connector: "scheduler", mapping: "visit_reschedule", state: "sent" }]);
      // The partner saw the delivery's idempotency token.
      expect(request?.headers["idempotency-key"]).toBe(detail.deliveries[0]?.token);
      await gw.close();
    } finally {
      release();
      hold = undefined;
    }
  });

  it("an event sent in a transaction that rolls back is never delivered", async () => {
    const client = new pg.Client({ connectionString: site.db.url });
    await client.connect();
    let rolledBack: string;
    try {
      await client.query("begin");
      await client.query("insert into permits (id, status) values ('RB-1', 'PENDING')");
      rolledBack = (await gateway.send({ topic: "reschedule", payload: { family: "RB-1", new_date: "x" } }, { client }))
        .id;
      await client.query("rollback");
    } finally {
      await client.end();
    }
    // An event committed afterwards is delivered: capture has gone past the rolled-back transaction.
    const marker = await gateway.send({ topic: "reschedule", payload: { family: "MARK-1", new_date: "x" } });
    await waitFor("the later event to be sent", async () => (await gateway.receipt(marker.id)) === "sent");
    expect(await gateway.receipt(rolledBack)).toBe("pending");
    expect((await gateway.receiptDetail(rolledBack)).captured).toBe(false);
    expect(familiesAt(partner.requests, "/scheduler")).toContain("MARK-1");
    expect(familiesAt(partner.requests, "/scheduler")).not.toContain("RB-1");
    const feed = await site.db.query("select 1 from ess.feed where after ->> 'id' = $1", [rolledBack]);
    expect(feed.rowCount).toBe(0);
  });

  it("an event sent in the caller's transaction is delivered only once that transaction commits", async () => {
    const client = new pg.Client({ connectionString: site.db.url });
    await client.connect();
    try {
      await client.query("begin");
      await client.query("insert into permits (id, status) values ('TX-1', 'APPROVED')");
      const receipt = await gateway.send(
        { topic: "reschedule", payload: { family: "TX-1", new_date: "2024-06-01" } },
        { client },
      );
      // Events committed meanwhile flow; this one waits for its transaction.
      const other = await gateway.send({ topic: "reschedule", payload: { family: "MARK-2", new_date: "x" } });
      await waitFor("the other event to be sent", async () => (await gateway.receipt(other.id)) === "sent");
      expect(await gateway.receiptDetail(receipt.id)).toMatchObject({ state: "pending", captured: false });
      expect(familiesAt(partner.requests, "/scheduler")).not.toContain("TX-1");

      await client.query("commit");
      await waitFor("the committed event to be sent", async () => (await gateway.receipt(receipt.id)) === "sent");
      expect(familiesAt(partner.requests, "/scheduler").filter((f) => f === "TX-1")).toHaveLength(1);
      const permit = await site.db.query("select 1 from permits where id = 'TX-1'");
      expect(permit.rowCount).toBe(1);
    } finally {
      await client.end();
    }
  });

  it("an event that reaches several partners reads dead when one of them refuses it, with each delivery listed", async () => {
    const gw = new Gateway({ databaseUrl: site.db.url, ledgerUrl: site.db.url, schema: "ess" });
    try {
      const receipt = await gw.send({ topic: "cancel", payload: { family: "C-9", new_date: null } });
      await waitFor("the refused delivery to go dead", async () => (await gw.receipt(receipt.id)) === "dead");
      const detail = await gw.receiptDetail(receipt.id);
      await waitFor("the accepted delivery to be sent", async () =>
        (await gw.receiptDetail(receipt.id)).deliveries.some((d) => d.connector === "scheduler" && d.state === "sent"),
      );
      expect(detail.deliveries.map((d) => d.connector).sort()).toEqual(["archive", "scheduler"]);
      const refused = detail.deliveries.find((d) => d.connector === "archive");
      expect(refused?.state).toBe("dead");
      expect(refused?.lastError).toMatch(/400/);
      expect(await gw.receipt(receipt.id)).toBe("dead");
    } finally {
      await gw.close();
    }
  });

  it("refuses bad events and receipt ids before touching the database", async () => {
    // Nothing listens on port 1: any database access would fail with a connection error instead.
    const offline = new Gateway({ databaseUrl: "postgres://ess@127.0.0.1:1/none" });
    const refusals: [unknown, string][] = [
      [{ topic: "", payload: {} }, "topic"],
      [{ topic: "re schedule", payload: {} }, "topic"],
      [{ topic: 42, payload: {} }, "topic"],
      [{ topic: "reschedule", payload: ["A123"] }, "payload"],
      [{ topic: "reschedule", payload: "A123" }, "payload"],
      [{ topic: "reschedule" }, "payload"],
      [{ topic: "reschedule", payload: { at: new Date() } }, "payload.at"],
      [{ topic: "reschedule", payload: { n: 10n } }, "payload.n"],
      [{ topic: "reschedule", payload: { visits: [1, Number.NaN] } }, "payload.visits[1]"],
      [{ topic: "reschedule", payload: { later: undefined } }, "payload.later"],
    ];
    for (const [event, path] of refusals) {
      const error = await offline.send(event as never).catch((e: unknown) => e);
      expect(error, JSON.stringify(path)).toBeInstanceOf(InvalidEventError);
      expect((error as InvalidEventError).path).toBe(path);
    }
    await expect(offline.receipt("not-a-receipt")).rejects.toBeInstanceOf(InvalidReceiptIdError);
    expect(() => new Gateway({ databaseUrl: site.db.url, schema: "Not-A-Schema" })).toThrow(GatewaySetupError);
    await offline.close();
  });

  it("classifies database failures by SQLSTATE: unreachable, aborted transaction, ledger not migrated", async () => {
    const offline = new Gateway({ databaseUrl: "postgres://ess@127.0.0.1:1/none" });
    const unreachable = await offline
      .send({ topic: "reschedule", payload: { family: "X" } })
      .catch((e: unknown) => e as GatewayDatabaseError);
    expect(unreachable).toBeInstanceOf(GatewayDatabaseError);
    expect(unreachable).toMatchObject({ operation: "send", failure: "connection", retriable: true });
    await offline.close();

    const client = new pg.Client({ connectionString: site.db.url });
    await client.connect();
    try {
      await client.query("begin");
      await client.query("select 1 / 0").catch(() => undefined);
      const aborted = await gateway
        .send({ topic: "reschedule", payload: { family: "X" } }, { client })
        .catch((e: unknown) => e as GatewayDatabaseError);
      expect(aborted).toBeInstanceOf(GatewayDatabaseError);
      expect(aborted).toMatchObject({ failure: "aborted-transaction", code: "25P02", retriable: false });
      await client.query("rollback");
    } finally {
      await client.end();
    }

    const unmigrated = new Gateway({ databaseUrl: site.db.url, schema: "not_migrated" });
    const missing = (await unmigrated
      .receipt("00000000-0000-4000-8000-000000000000")
      .catch((e: unknown) => e)) as GatewayDatabaseError;
    expect(missing).toMatchObject({ operation: "receipt", failure: "ledger-missing", retriable: false });
    expect(missing.message).toMatch(/essctl migrate/);
    await unmigrated.close();
  });
});
