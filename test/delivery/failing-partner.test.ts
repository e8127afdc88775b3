import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EssEngine } from "../../src/engine.js";
import { silentLogger } from "../../src/ops/logger.js";
import { waitFor } from "../support/capture-fixture.js";
import { createSite, type EssSite, permitStatusMapping } from "../support/ess-site.js";
import { essctl } from "../support/essctl.js";
import { type ReceivedRequest, startHttpServer, type TestHttpServer } from "../support/http-server.js";

const INITIAL_MS = 200;
const MAX_MS = 800;
const MAX_ATTEMPTS = 4;

function restConnector(url: string): string {
  return [
    "name: gis",
    "adapter: rest",
    "rest:",
    `  url: ${url}/api/permits`,
    "  method: POST",
    "  timeout: 5s",
    `  health: ${url}/health`,
    "batch: { maxRecords: 10, maxWait: 50ms }",
    `retry: { maxAttempts: ${MAX_ATTEMPTS}, initialDelay: ${INITIAL_MS}ms, maxDelay: ${MAX_MS}ms }`,
    "heartbeat: { every: 1s, offlineAfter: 3 }",
    "",
  ].join("\n");
}

const permitOf = (r: ReceivedRequest) => JSON.parse(r.body) as { permit_id: string; status: string };

describe("a failing partner", () => {
  let site: EssSite;
  let engine: EssEngine;
  let partner: TestHttpServer;
  let failing = true;

  beforeAll(async () => {
    partner = await startHttpServer((request) => {
      if (request.url === "/health") return { status: 200 };
      const permit = permitOf(request);
      if (permit.permit_id === "BP-BAD" && failing) return { status: 503, body: "partner down for this one" };
      if (permit.permit_id === "BP-REJECT") return { status: 400, body: "bad permit" };
      return { status: 201, body: JSON.stringify({ id: `ack-${permit.permit_id}` }) };
    });
    site = await createSite("failing-partner", () => ({
      connectors: { gis: restConnector(partner.url) },
      mappings: { permit_status: permitStatusMapping("gis", "json") },
    }));
    engine = await EssEngine.create(await site.load(), { logger: silentLogger(), pollMs: 25 });
    void engine.start();
  });
  afterAll(async () => {
    await engine?.stop();
    await partner?.stop();
    await site?.cleanup();
  });

  it("backs off within the policy, goes dead after maxAttempts, holds the same key, lets other keys flow, and replay delivers", async () => {
    await site.db.query("insert into permits (id, status) values ('BP-BAD', 'PENDING')");
    await site.db.query("insert into permits (id, status) values ('BP-REJECT', 'PENDING')");
    await site.db.query("update permits set status = 'APPROVED' where id = 'BP-BAD'");
    for (let i = 0; i < 5; i++)
      await site.db.query("insert into permits (id, status) values ($1, 'PENDING')", [`BP-OK${i}`]);

    const badAttempts = () => partner.requests.filter((r) => r.url !== "/health" && permitOf(r).permit_id === "BP-BAD");
    await waitFor("BP-BAD to go dead", async () => {
      const r = await site.db.query<{ state: string }>(
        "select state from ess.deliveries where ordering_key like '%BP-BAD%' order by id limit 1",
      );
      return r.rows[0]?.state === "dead";
    });
    // Other keys flow: the dead BP-BAD blocks none of them (under load, capture may still be
    // storing them when BP-BAD's short retry budget runs out, so wait for them).
    const okSent = () =>
      new Set(
        partner.requests
          .filter((r) => r.url !== "/health" && permitOf(r).permit_id.startsWith("BP-OK"))
          .map((r) => permitOf(r).permit_id),
      ).size;
    await waitFor("the other keys to be sent", async () => okSent() === 5);
    expect(okSent()).toBe(5);
    // A permanent failure (400) goes dead at once, after one attempt.
    const rejected = await site.db.query<{ state: string; attempts: number; last_error: string }>(
      "select state, attempts, last_error from ess.deliveries where ordering_key like '%BP-REJECT%'",
    );
    expect(rejected.rows[0]).toMatchObject({ state: "dead", attempts: 1 });
    expect(rejected.rows[0]?.last_error).toMatch(/400/);

    const attempts = badAttempts().filter((r) => permitOf(r).status === "pending");
    expect(attempts).toHaveLength(MAX_ATTEMPTS);
    // The same key was held: BP-BAD's APPROVED was not attempted before its PENDING went dead.
    await waitFor("BP-BAD's APPROVED to be sent after the dead PENDING", async () =>
      badAttempts().some((r) => permitOf(r).status === "approved"),
    );
    const firstApproved = badAttempts().findIndex((r) => permitOf(r).status === "approved");
    expect(firstApproved).toBe(MAX_ATTEMPTS);

    // Backoff: each failure schedules the next attempt after full jitter in
    // [initial, min(max, initial·2^(n-1))], and the attempt does not come earlier than that.
    // (How much later depends on the machine's load: the worker finishes its batch in hand first.)
    const rows = await site.db.query<{ at: Date; event: string; retry_in_ms: number | null }>(
      `with bad as (select id, connector from ess.deliveries where ordering_key like '%BP-BAD%' order by id limit 1)
       select a.at, a.event, (a.detail->>'retryInMs')::int as retry_in_ms from ess.audit a, bad
        where a.event in ('attempted', 'failed')
          -- A hop names the delivery, or the run of deliveries its batch covered.
          and (a.delivery_id = bad.id
               or (a.delivery_id is null and a.connector = bad.connector
                   and bad.id between (a.detail->>'firstId')::bigint and (a.detail->>'lastId')::bigint))
        order by a.at, a.id`,
    );
    const attempted = rows.rows.filter((r) => r.event === "attempted");
    const failed = rows.rows.filter((r) => r.event === "failed");
    expect(attempted).toHaveLength(MAX_ATTEMPTS);
    expect(failed).toHaveLength(MAX_ATTEMPTS - 1);
    for (let n = 1; n < attempted.length; n++) {
      const delay = failed[n - 1]?.retry_in_ms ?? -1;
      const ceiling = Math.min(MAX_MS, INITIAL_MS * 2 ** (n - 1));
      expect(delay).toBeGreaterThanOrEqual(INITIAL_MS);
      expect(delay).toBeLessThanOrEqual(ceiling);
      const gap = (attempted[n]?.at.getTime() ?? 0) - (failed[n - 1]?.at.getTime() ?? 0);
      expect(gap).toBeGreaterThanOrEqual(delay - 20);
      expect(gap).toBeLessThanOrEqual(delay + 5_000);
    }

    // The fault is removed; replaying the dead letters delivers them with the same tokens.
    failing = false;
    const before = await site.db.query<{ token: string }>(
      "select token from ess.deliveries where state = 'dead' and ordering_key like '%BP-BAD%'",
    );
    const replay = await essctl(["replay", "--dead", "--config", site.configPath, "--json"]);
    expect(replay.stderr).toBe("");
    expect(replay.code).toBe(0);
    expect((JSON.parse(replay.stdout) as { replayed: number }).replayed).toBe(2);
    await waitFor("the replayed BP-BAD delivery to be sent", async () => {
      const r = await site.db.query<{ state: string }>("select state from ess.deliveries where token = $1", [
        before.rows[0]?.token,
      ]);
      return r.rows[0]?.state === "sent";
    });
    const resent = partner.requests.filter((r) => r.headers["idempotency-key"] === before.rows[0]?.token);
    expect(resent.length).toBe(MAX_ATTEMPTS + 1);
    const replayedAudit = await site.db.query<{ n: string }>(
      "select count(*) as n from ess.audit where event = 'replayed'",
    );
    expect(Number(replayedAudit.rows[0]?.n)).toBe(2);
  }, 60_000);
});

describe("two ESS processes on one ledger", () => {
  let site: EssSite;
  let partner: TestHttpServer;
  const engines: EssEngine[] = [];

  beforeAll(async () => {
    partner = await startHttpServer((request) =>
      request.url === "/health" ? { status: 200 } : { status: 200, delayMs: 2 },
    );
    site = await createSite("two-processes", () => ({
      connectors: { gis: restConnector(partner.url).replace("maxRecords: 10", "maxRecords: 5") },
      mappings: { permit_status: permitStatusMapping("gis", "json") },
    }));
    const config = await site.load();
    engines.push(await EssEngine.create(config, { logger: silentLogger(), pollMs: 10 }));
    engines.push(await EssEngine.create(config, { logger: silentLogger(), pollMs: 10, captureEnabled: false }));
    for (const e of engines) void e.start();
  });
  afterAll(async () => {
    for (const e of engines) await e.stop();
    await partner?.stop();
    await site?.cleanup();
  });

  it("delivers each delivery once between them", async () => {
    const rows = 300;
    for (let i = 0; i < rows; i++)
      await site.db.query("insert into permits (id, status) values ($1, 'PENDING')", [`P${i}`]);
    await waitFor(`${rows} deliveries sent`, async () => {
      const r = await site.db.query<{ n: string }>("select count(*) as n from ess.deliveries where state = 'sent'");
      return Number(r.rows[0]?.n) === rows;
    });
    const posts = partner.requests.filter((r) => r.url !== "/health");
    const tokens = posts.map((r) => r.headers["idempotency-key"]);
    expect(tokens).toHaveLength(rows);
    expect(new Set(tokens).size).toBe(rows);
    // Both processes did part of the work.
    const owners = await site.db.query<{ n: string }>("select count(distinct owner) as n from ess.batches");
    expect(Number(owners.rows[0]?.n)).toBe(2);
  }, 60_000);
});
