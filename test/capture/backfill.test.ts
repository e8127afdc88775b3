// essctl backfill against a running engine: rows older than the slot are sent, changes around the
// snapshot are the stream's, nothing is sent twice, and per-row order holds.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBackfill } from "../../src/capture/backfill.js";
import { CaptureBehindError } from "../../src/capture/backfill-errors.js";
import type { EssConfig } from "../../src/config/types.js";
import { EssEngine } from "../../src/engine.js";
import { silentLogger } from "../../src/ops/logger.js";
import { waitFor } from "../support/capture-fixture.js";
import { createSite, type EssSite, permitStatusMapping } from "../support/ess-site.js";
import { essctl } from "../support/essctl.js";
import { type ReceivedRequest, startHttpServer, type TestHttpServer } from "../support/http-server.js";

function restConnector(url: string): string {
  return [
    "name: gis",
    "adapter: rest",
    "rest:",
    `  url: ${url}/api/permits`,
    "  method: POST",
    "  timeout: 5s",
    "batch: { maxRecords: 50, maxWait: 20ms }",
    "retry: { maxAttempts: 3, initialDelay: 100ms, maxDelay: 200ms }",
    "heartbeat: { every: 1s, offlineAfter: 3 }",
    "",
  ].join("\n");
}

const TOPIC_MAPPING = [
  "name: visit_reschedule",
  "source:",
  "  topic: reschedule",
  "targets:",
  "  - connector: gis",
  "    format: json",
  "    fields: { family: family }",
  "",
].join("\n");

interface Received {
  readonly id: string;
  readonly status: string;
  readonly token: string;
}

function received(requests: readonly ReceivedRequest[]): Received[] {
  return requests
    .filter((r) => r.method === "POST" && r.url === "/api/permits")
    .map((r) => {
      const body = JSON.parse(r.body) as { permit_id: string; status: string | null };
      return { id: body.permit_id, status: body.status ?? "", token: String(r.headers["idempotency-key"]) };
    });
}

function statusesOf(records: readonly Received[], id: string): string[] {
  return records.filter((r) => r.id === id).map((r) => r.status);
}

/** A site whose permits were written before its replication slot existed. */
async function siteWithOldRows(label: string, partner: TestHttpServer, rows: number): Promise<EssSite> {
  const site = await createSite(label, () => ({
    connectors: { gis: restConnector(partner.url) },
    mappings: { permit_status: permitStatusMapping("gis", "json"), visit_reschedule: TOPIC_MAPPING },
  }));
  const slot = `slot_${site.db.name}`;
  await site.db.query("select pg_drop_replication_slot($1)", [slot]);
  await site.db.query(
    `insert into permits (id, status, amount)
     select 'BP-' || lpad(n::text, 3, '0'), 'PENDING', n from generate_series(0, $1 - 1) n`,
    [rows],
  );
  await site.db.query("select pg_create_logical_replication_slot($1, 'pgoutput')", [slot]);
  return site;
}

async function deliveryCount(site: EssSite): Promise<number> {
  const r = await site.db.query<{ n: string }>(
    "select count(*) as n from ess.deliveries where mapping = 'permit_status'",
  );
  return Number(r.rows[0]?.n);
}

async function startEngine(config: EssConfig): Promise<EssEngine> {
  const engine = await EssEngine.create(config, { logger: silentLogger(), pollMs: 25, statusIntervalMs: 100 });
  void engine.start();
  return engine;
}

describe("essctl backfill", () => {
  let partner: TestHttpServer;
  let site: EssSite;
  let engine: EssEngine;

  beforeAll(async () => {
    partner = await startHttpServer(() => ({ status: 201, body: "{}" }));
    site = await siteWithOldRows("backfill-cli", partner, 120);
    engine = await startEngine(await site.load());
  });
  afterAll(async () => {
    await engine?.stop();
    await partner?.stop();
    await site?.cleanup();
  });

  it("sends the rows written before the slot existed, once, and a second run adds nothing", async () => {
    const first = await essctl(["backfill", "permit_status", "--config", site.configPath, "--json"]);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({
      mapping: "permit_status",
      table: "public.permits",
      rows: 120,
      matched: 120,
      queued: 120,
      dead: 0,
      skipped: 0,
    });
    await waitFor(
      "120 permits at the partner",
      async () => new Set(received(partner.requests).map((r) => r.id)).size === 120,
    );
    const records = received(partner.requests);
    expect(records).toHaveLength(120);
    expect(records.every((r) => r.status === "pending")).toBe(true);
    // In key order, as the snapshot was read.
    expect(records.map((r) => r.id)).toEqual([...records.map((r) => r.id)].sort());

    const second = await essctl(["--config", site.configPath, "backfill", "permit_status", "--batch-size", "50"]);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/snapshot at [0-9A-F]+\/[0-9A-F]+/);
    expect(second.stdout).toMatch(/120 rows read, 120 taken by the mapping, 0 deliveries queued, 0 dead, 120 skipped/);
    expect(await deliveryCount(site)).toBe(120);
  });

  it("refuses an unknown mapping and a topic mapping as usage errors", async () => {
    const unknown = await essctl(["backfill", "no_such_mapping", "--config", site.configPath]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no_such_mapping.*mappings: permit_status, visit_reschedule/);
    const topic = await essctl(["backfill", "visit_reschedule", "--config", site.configPath]);
    expect(topic.code).toBe(2);
    expect(topic.stderr).toMatch(/topic reschedule: only table mappings/);
  });
});

describe("backfill consistency with the stream", () => {
  let partner: TestHttpServer;
  let site: EssSite;
  let config: EssConfig;
  let engine: EssEngine | undefined;

  beforeAll(async () => {
    partner = await startHttpServer(() => ({ status: 201, body: "{}" }));
    site = await siteWithOldRows("backfill-stream", partner, 60);
    config = await site.load();
  });
  afterAll(async () => {
    await engine?.stop();
    await partner?.stop();
    await site?.cleanup();
  });

  it("without capture running, waits for it, then fails and queues nothing", async () => {
    // WAL after the slot's position, so there is something capture would have to store first
    // (other activity on the server may or may not provide it).
    await site.db.query("select pg_logical_emit_message(false, 'test', 'after the slot')");
    const failure = await runBackfill(config, "permit_status", { catchUpTimeoutMs: 700 }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(CaptureBehindError);
    expect(failure).toMatchObject({ slotActive: false });
    expect((failure as Error).message).toMatch(/is essctl start running\?/);
    expect(await deliveryCount(site)).toBe(0);
  });

  it("leaves changes around the snapshot to the stream: no state twice, never an older state after a newer one", async () => {
    engine = await startEngine(config);
    // After the slot, before the snapshot: the stream delivers these.
    await site.db.query("update permits set status = 'REVIEW' where id = 'BP-010'");
    await site.db.query("delete from permits where id = 'BP-011'");
    await site.db.query("insert into permits (id, status) values ('BP-NEW', 'PENDING')");
    let interleaved = false;
    const report = await runBackfill(config, "permit_status", {
      batchSize: 10,
      onProgress: async (progress) => {
        if (interleaved || progress.rows < 10) return;
        interleaved = true;
        // After the snapshot: BP-005 was just queued by the backfill, BP-050 is not read yet.
        await site.db.query("update permits set status = 'APPROVED' where id in ('BP-005', 'BP-050')");
        await waitFor("capture to store the change of BP-050", async () => {
          const r = await site.db.query(
            "select 1 from ess.deliveries where ordering_key = 'BP-050' and commit_lsn is not null",
          );
          return (r.rowCount ?? 0) > 0;
        });
      },
    });
    expect(interleaved).toBe(true);
    // 60 old rows, one deleted, one new; BP-010 and BP-NEW were streamed, BP-050 streamed a later state.
    expect(report).toMatchObject({ rows: 60, matched: 60, queued: 57, dead: 0, skipped: 3 });

    const current = await site.db.query<{ id: string; status: string }>("select id, status from permits");
    await waitFor("every row's current state at the partner", async () => {
      const records = received(partner.requests);
      return current.rows.every((row) => statusesOf(records, row.id).at(-1) === row.status.toLowerCase());
    });
    const records = received(partner.requests);
    expect(statusesOf(records, "BP-005")).toEqual(["pending", "approved"]);
    expect(statusesOf(records, "BP-050")).toEqual(["approved"]);
    expect(statusesOf(records, "BP-010")).toEqual(["review"]);
    expect(statusesOf(records, "BP-NEW")).toEqual(["pending"]);
    expect(statusesOf(records, "BP-011")).toHaveLength(1);
    expect(statusesOf(records, "BP-000")).toEqual(["pending"]);
    // One token per delivered state, every state once.
    expect(new Set(records.map((r) => r.token)).size).toBe(records.length);
    expect(new Set(records.map((r) => `${r.id}:${r.status}`)).size).toBe(records.length);
  });

  it("a second run adds nothing: the stream's states and the first run's tokens are recognised", async () => {
    const before = await deliveryCount(site);
    const report = await runBackfill(config, "permit_status", { batchSize: 25 });
    expect(report).toMatchObject({ rows: 60, queued: 0, skipped: 60 });
    expect(await deliveryCount(site)).toBe(before);
  });

  it("after a slot was lost and created again, sends the rows whose changes the stream never carried", async () => {
    await engine?.stop();
    engine = undefined;
    const slot = config.replication.slot;
    await site.db.query("select pg_drop_replication_slot($1)", [slot]);
    // No slot: these changes are never captured.
    await site.db.query("update permits set status = 'DENIED' where id in ('BP-005', 'BP-020')");
    await site.db.query("select pg_create_logical_replication_slot($1, 'pgoutput')", [slot]);
    engine = await startEngine(config);

    const report = await runBackfill(config, "permit_status", { batchSize: 25 });
    expect(report).toMatchObject({ rows: 60, queued: 2, skipped: 58 });
    await waitFor("the repaired rows at the partner", async () => {
      const records = received(partner.requests);
      return statusesOf(records, "BP-005").at(-1) === "denied" && statusesOf(records, "BP-020").at(-1) === "denied";
    });
    const records = received(partner.requests);
    expect(statusesOf(records, "BP-005")).toEqual(["pending", "approved", "denied"]);
    expect(statusesOf(records, "BP-020")).toEqual(["pending", "denied"]);
  });
});
