import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EssConfig } from "../../src/config/types.js";
import { EssEngine } from "../../src/engine.js";
import { probeRunningEngine } from "../../src/ops/engine-probe.js";
import { waitFor } from "../support/capture-fixture.js";
import { createSite, type EssSite, fileDropConnector, permitStatusMapping } from "../support/ess-site.js";
import { startHttpServer, type TestHttpServer } from "../support/http-server.js";
import { capturedLogger, readyz, type Scrape, scrape } from "./ops-client.js";

const API_KEY = "gis-api-key-never-shown-7f3a";
const STALL_AFTER_MS = 1_500;
/** Fat rows, so the backlog written while ESS is stopped is well past the caught-up threshold. */
const BACKLOG = 300;

function restConnector(url: string): string {
  return [
    "name: gis",
    "adapter: rest",
    "rest:",
    `  url: ${url}/api/permits`,
    "  method: POST",
    `  headers: { X-API-Key: "${API_KEY}" }`,
    "  timeout: 5s",
    `  health: ${url}/health`,
    "batch: { maxRecords: 10, maxWait: 50ms }",
    "retry: { maxAttempts: 4, initialDelay: 200ms, maxDelay: 400ms }",
    "heartbeat: { every: 1s, offlineAfter: 3 }",
    "",
  ].join("\n");
}

const APPROVED_TO_GIS = [
  "name: permit_gis",
  "source:",
  "  table: public.permits",
  "  where: { status: [APPROVED] }",
  "targets:",
  "  - connector: gis",
  "    format: json",
  "    fields: { permit_id: id, status: status | lower }",
  "",
].join("\n");

async function count(site: EssSite, where: string): Promise<number> {
  const r = await site.db.query<{ n: string }>(`select count(*) as n from ess.deliveries where ${where}`);
  return Number(r.rows[0]?.n);
}

describe("metrics and the stall rule across a stop, a backlog and a locked ledger", () => {
  let site: EssSite;
  let partner: TestHttpServer;
  let config: EssConfig;
  const engines: EssEngine[] = [];
  let lockHolder: pg.Client | undefined;
  let flakyFailures = 0;

  beforeAll(async () => {
    partner = await startHttpServer((request) => {
      if (request.url === "/health") return { status: 200 };
      const permit = JSON.parse(request.body) as { permit_id: string };
      if (permit.permit_id === "BP-FLAKY" && flakyFailures++ === 0) return { status: 503, body: "busy" };
      return { status: 201, body: JSON.stringify({ id: `ack-${permit.permit_id}` }) };
    });
    site = await createSite("ops-metrics", ({ dropDir }) => ({
      connectors: { city_drop: fileDropConnector("city_drop", dropDir), gis: restConnector(partner.url) },
      mappings: { permit_status: permitStatusMapping("city_drop"), permit_gis: APPROVED_TO_GIS },
    }));
    const loaded = await site.load();
    config = { ...loaded, replication: { ...loaded.replication, stallAfterMs: STALL_AFTER_MS } };
  });
  afterAll(async () => {
    await lockHolder?.end().catch(() => undefined);
    for (const engine of engines) await engine.stop();
    await partner?.stop();
    await site?.cleanup();
  });

  async function runEngine(logger = capturedLogger()): Promise<{ engine: EssEngine; url: string; log: typeof logger }> {
    const engine = await EssEngine.create(config, { logger: logger.logger, pollMs: 25, statusIntervalMs: 200 });
    engines.push(engine);
    const address = await engine.listen();
    void engine.start();
    return { engine, url: address.url, log: logger };
  }

  it("counts successes, failures by reason and latency, and shows every SPEC §6 metric", async () => {
    const { engine, url, log } = await runEngine();
    await waitFor("ready", async () => (await readyz(url)).status === 200);
    await site.db.query(`insert into permits (id, status) select 'BP-' || i, 'PENDING' from generate_series(1, 5) i`);
    await site.db.query("insert into permits (id, status) values ('BP-FLAKY', 'APPROVED'), ('BP-OK', 'APPROVED')");
    await waitFor("all 9 deliveries sent", async () => (await count(site, "state = 'sent'")) === 9);

    const metrics = await scrape(url);
    for (const name of [
      "ess_success_total",
      "ess_failure_total",
      "ess_retry_pending",
      "ess_dead_letters",
      "ess_replication_lag_bytes",
      "ess_replication_lag_seconds",
      "ess_slot_retained_wal_bytes",
      "ess_connector_up",
      "ess_delivery_latency_seconds_bucket",
      "process_cpu_user_seconds_total",
    ]) {
      expect(metrics.has(name), name).toBe(true);
    }
    expect(metrics.value("ess_success_total", { connector: "city_drop", mapping: "permit_status" })).toBe(7);
    expect(metrics.value("ess_success_total", { connector: "gis", mapping: "permit_gis" })).toBe(2);
    expect(metrics.value("ess_failure_total", { connector: "gis", reason: "http_503", mapping: "permit_gis" })).toBe(1);
    expect(metrics.value("ess_retry_pending", { connector: "gis" })).toBe(0);
    expect(metrics.value("ess_dead_letters", { connector: "city_drop" })).toBe(0);
    expect(metrics.value("ess_connector_up", { connector: "gis" })).toBe(1);
    expect(metrics.value("ess_connector_up", { connector: "city_drop" })).toBe(1);
    // Commit to acknowledgement: every sent delivery observed once, each within this test's lifetime.
    expect(metrics.value("ess_delivery_latency_seconds_count", { connector: "city_drop" })).toBe(7);
    expect(metrics.value("ess_delivery_latency_seconds_bucket", { connector: "gis", le: "+Inf" })).toBe(2);
    const latencySum = metrics.value("ess_delivery_latency_seconds_sum", { connector: "city_drop" });
    expect(latencySum).toBeGreaterThan(0);
    expect(latencySum / 7).toBeLessThan(30);
    expect(metrics.value("ess_replication_connected")).toBe(1);
    expect(metrics.value("ess_replication_stalled")).toBe(0);
    expect(metrics.value("ess_slot_retained_wal_bytes")).toBeGreaterThanOrEqual(0);

    // Logs: one line per item and attempt, with its token, correlation id and duration.
    const attempts = log.lines().filter((l) => l.msg === "delivery attempt");
    expect(attempts.filter((l) => l.outcome === "sent")).toHaveLength(9);
    for (const line of attempts) {
      expect(line).toMatchObject({
        token: expect.stringMatching(/^ess1-/),
        correlationId: expect.stringMatching(/^ess-/),
      });
      expect(typeof line.deliveryId).toBe("string");
      expect(typeof line.durationMs).toBe("number");
      expect(typeof line.attempt).toBe("number");
    }
    expect(attempts.filter((l) => l.outcome === "retry" && l.reason === "http_503")).toHaveLength(1);
    // The partner's API key is a secret: not in the logs, not in the metrics.
    expect(log.text()).not.toContain(API_KEY);
    expect(metrics.text).not.toContain(API_KEY);
    await engine.stop();
    engines.splice(engines.indexOf(engine), 1);
  });

  it("after a backlog written while ESS was stopped the lag starts high, a held ledger lock stalls /readyz with a named cause, and the lag falls to zero once caught up", async () => {
    await site.db.query(
      `insert into permits (id, status, applicant_ssn)
       select 'BL-' || i, 'PENDING', repeat('x', 600) from generate_series(1, ${BACKLOG}) i`,
    );
    // A long transaction holding a lock on the ledger's feed: capture cannot store anything.
    lockHolder = new pg.Client({ connectionString: site.db.url, application_name: "ops-test-lock" });
    await lockHolder.connect();
    await lockHolder.query("begin");
    await lockHolder.query("lock table ess.feed in share mode");

    const { url, log } = await runEngine();
    let backlog: Scrape | undefined;
    await waitFor("the lag gauges to show the backlog", async () => {
      backlog = await scrape(url);
      return backlog.value("ess_replication_lag_bytes") > 64 * 1024;
    });
    expect(backlog?.value("ess_replication_lag_bytes")).toBeGreaterThan(BACKLOG * 600);
    expect(backlog?.value("ess_slot_retained_wal_bytes")).toBeGreaterThanOrEqual(
      backlog?.value("ess_replication_lag_bytes") ?? 0,
    );

    // The causes are read again while stalled: the capture's wait on the lock shows once it is connected.
    const stalled = await waitForReady(
      url,
      503,
      (r) =>
        r.body.checks.stall?.ok === false && /lock held by pid/.test(r.body.checks.stall?.causes?.join("\n") ?? ""),
    );
    expect(stalled.body.ready).toBe(false);
    expect(stalled.body.reasons.join("\n")).toMatch(/replication stalled/);
    expect(stalled.body.checks.stall?.causes?.join("\n")).toMatch(
      /waits for a lock held by pid \d+ \(application "ops-test-lock"/,
    );
    // ESS's own connections waiting behind the stall are not named as its cause.
    expect(stalled.body.checks.stall?.causes?.join("\n")).not.toMatch(/ess-capture/);
    // Another process (essctl stats) sees the stall through the engine's http.listen address.
    const port = Number(new URL(url).port);
    const probe = await probeRunningEngine({ host: "127.0.0.1", port });
    expect(probe).toMatchObject({ reachable: true, ready: false, stalled: true });
    expect(probe.reachable && probe.stallCauses.join("\n")).toMatch(/lock held by pid/);
    const during = await scrape(url);
    expect(during.value("ess_replication_stalled")).toBe(1);
    expect(during.value("ess_replication_lag_seconds")).toBeGreaterThanOrEqual(STALL_AFTER_MS / 1000);
    const warning = log.lines().find((l) => typeof l.msg === "string" && l.msg.startsWith("replication stalled"));
    expect(warning?.level).toBe(40);
    expect(JSON.stringify(warning?.causes)).toMatch(/lock held by pid/);

    await lockHolder.query("commit");
    await lockHolder.end();
    lockHolder = undefined;
    await waitFor(
      `the ${BACKLOG} backlog deliveries sent`,
      async () => (await count(site, "state = 'sent'")) === 9 + BACKLOG,
    );
    await waitForReady(url, 200, (r) => r.body.ready);
    let caughtUp: Scrape | undefined;
    await waitFor("the lag gauges to fall back", async () => {
      caughtUp = await scrape(url);
      return caughtUp.value("ess_replication_lag_bytes") < 64 * 1024 && caughtUp.value("ess_replication_stalled") === 0;
    });
    expect(caughtUp?.value("ess_replication_lag_seconds")).toBe(0);
    expect(caughtUp?.value("ess_replication_stalled")).toBe(0);
    // This process delivered exactly the backlog.
    expect(caughtUp?.value("ess_success_total", { connector: "city_drop" })).toBe(BACKLOG);
    expect(caughtUp?.value("ess_delivery_latency_seconds_count", { connector: "city_drop" })).toBe(BACKLOG);
    // They waited behind the lock for at least the stall time.
    const sum = caughtUp?.value("ess_delivery_latency_seconds_sum", { connector: "city_drop" }) ?? 0;
    expect(sum / BACKLOG).toBeGreaterThan(STALL_AFTER_MS / 1000);
    expect(log.lines().some((l) => l.msg === "replication is moving again")).toBe(true);
    expect(await probeRunningEngine({ host: "127.0.0.1", port })).toMatchObject({
      reachable: true,
      ready: true,
      stalled: false,
    });
  });
});

async function waitForReady(
  url: string,
  status: number,
  check: (answer: Awaited<ReturnType<typeof readyz>>) => boolean,
): Promise<Awaited<ReturnType<typeof readyz>>> {
  let last: Awaited<ReturnType<typeof readyz>> | undefined;
  await waitFor(`/readyz ${status}`, async () => {
    last = await readyz(url);
    return last.status === status && check(last);
  });
  return last as Awaited<ReturnType<typeof readyz>>;
}
