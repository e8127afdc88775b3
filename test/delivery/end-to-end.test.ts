import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EssEngine } from "../../src/engine.js";
import { silentLogger } from "../../src/ops/logger.js";
import { waitFor } from "../support/capture-fixture.js";
import { createSite, type EssSite, fileDropConnector, permitStatusMapping } from "../support/ess-site.js";
import { essctl } from "../support/essctl.js";

interface DropRecord {
  readonly file: number;
  readonly line: number;
  readonly id: string;
  readonly status: string;
  readonly ts: string;
}

async function readDrops(dir: string): Promise<DropRecord[]> {
  const names = (await readdir(dir)).filter((n) => /^permits_\d+\.txt$/.test(n)).sort();
  const records: DropRecord[] = [];
  for (const name of names) {
    const body = await readFile(join(dir, name), "utf8");
    expect(body.endsWith("\r\n")).toBe(true);
    const lines = body.split("\r\n").slice(0, -1);
    lines.forEach((line, i) => {
      expect(line).toHaveLength(34);
      records.push({
        file: Number(name.slice(8, 14)),
        line: i,
        id: line.slice(0, 10).trimEnd(),
        status: line.slice(10, 20).trimEnd(),
        ts: line.slice(20),
      });
    });
  }
  return records;
}

describe("end to end: table rows become fixed-width records in a drop directory", () => {
  let site: EssSite;
  let engine: EssEngine;
  beforeAll(async () => {
    site = await createSite("e2e-file", ({ dropDir }) => ({
      connectors: { city_drop: fileDropConnector("city_drop", dropDir) },
      mappings: { permit_status: permitStatusMapping("city_drop") },
    }));
    engine = await EssEngine.create(await site.load(), { logger: silentLogger(), pollMs: 50 });
    void engine.start();
  });
  afterAll(async () => {
    await engine?.stop();
    await site?.cleanup();
  });

  it("delivers every change exactly once, in key order, and essctl stats agrees", async () => {
    const statuses = ["PENDING", "REVIEW", "APPROVED"];
    const permits = 40;
    for (let step = 0; step < statuses.length; step++) {
      for (let i = 0; i < permits; i++) {
        const id = `BP-${String(i).padStart(3, "0")}`;
        if (step === 0) {
          await site.db.query("insert into permits (id, status, amount) values ($1, $2, 10.00)", [id, statuses[step]]);
        } else {
          await site.db.query("update permits set status = $2, updated_at = now() where id = $1", [id, statuses[step]]);
        }
      }
    }
    const expected = permits * statuses.length;
    await waitFor(
      `${expected} records in the drop directory`,
      async () => (await readDrops(site.dropDir)).length >= expected,
    );
    const records = await readDrops(site.dropDir);
    expect(records).toHaveLength(expected);
    // No temp files left behind, and every change exactly once.
    expect((await readdir(site.dropDir)).filter((n) => n.endsWith(".part"))).toEqual([]);
    const seen = new Set(records.map((r) => `${r.id}:${r.status}`));
    expect(seen.size).toBe(expected);
    // Key order: each permit's records appear PENDING, REVIEW, APPROVED in file and line order.
    const byKey = new Map<string, string[]>();
    for (const r of records.sort((a, b) => a.file - b.file || a.line - b.line)) {
      byKey.set(r.id, [...(byKey.get(r.id) ?? []), r.status]);
    }
    for (const sequence of byKey.values()) expect(sequence).toEqual(statuses);
    // The timestamp is rendered in the mapping's time zone.
    const row = await site.db.query<{ ts: string }>(
      "select to_char(updated_at at time zone 'America/New_York', 'YYYYMMDDHH24MISS') as ts from permits where id = 'BP-000'",
    );
    expect(records.filter((r) => r.id === "BP-000").at(-1)?.ts).toBe(row.rows[0]?.ts);

    await waitFor("the ledger to mark everything sent", async () => {
      const r = await site.db.query<{ n: string }>("select count(*) as n from ess.deliveries where state = 'sent'");
      return Number(r.rows[0]?.n) === expected;
    });
    const stats = await essctl(["--config", site.configPath, "stats", "--json"]);
    expect(stats.stderr).toBe("");
    expect(stats.code).toBe(0);
    const report = JSON.parse(stats.stdout) as {
      connectors: { connector: string; sent: number; pending: number; dead: number }[];
    };
    const drop = report.connectors.find((c) => c.connector === "city_drop");
    expect(drop).toMatchObject({ sent: expected, pending: 0, dead: 0 });
    // essctl list shows them, with their tokens, and the audit trail has a 'sent' hop for each.
    const list = await essctl(["list", "--config", site.configPath, "--state", "sent", "--limit", "5", "--json"]);
    expect(list.code).toBe(0);
    const listed = JSON.parse(list.stdout) as { deliveries: { token: string; state: string }[] };
    expect(listed.deliveries).toHaveLength(5);
    expect(listed.deliveries.every((d) => d.state === "sent" && d.token.startsWith("ess1-"))).toBe(true);
    // A 'sent' hop names the delivery, or the run of deliveries its batch covered.
    const audit = await site.db.query<{ n: string }>(
      `select count(*) as n from ess.deliveries d
        where exists (select 1 from ess.audit a
                       where a.event = 'sent'
                         and (a.delivery_id = d.id
                              or (a.delivery_id is null and a.connector = d.connector
                                  and d.id between (a.detail->>'firstId')::bigint and (a.detail->>'lastId')::bigint)))`,
    );
    expect(Number(audit.rows[0]?.n)).toBe(expected);
  });

  it("a record that cannot be rendered becomes a dead letter with its reason and does not stop other keys", async () => {
    const longId = "X".repeat(11);
    await site.db.query("insert into permits (id, status) values ($1, 'PENDING')", [longId]);
    await site.db.query("insert into permits (id, status) values ('BP-OK', 'PENDING')");
    await waitFor("BP-OK delivered", async () => (await readDrops(site.dropDir)).some((r) => r.id === "BP-OK"));
    const dead = await site.db.query<{ state: string; last_error: string }>(
      "select state, last_error from ess.deliveries where ordering_key like 'XXXXXXXXXXX%'",
    );
    expect(dead.rows[0]?.state).toBe("dead");
    expect(dead.rows[0]?.last_error).toMatch(/PERMIT_ID/);
  });

  it("essctl pause holds a connector's deliveries without spending attempts, and resume releases them", async () => {
    const paused = await essctl(["pause", "city_drop", "--config", site.configPath]);
    expect(paused.code).toBe(0);
    expect(paused.stdout).toMatch(/city_drop: paused/);
    // Let any claim already in flight finish before counting.
    await new Promise((r) => setTimeout(r, 500));
    const before = (await readDrops(site.dropDir)).length;
    await site.db.query("insert into permits (id, status) values ('BP-HELD', 'PENDING')");
    await waitFor("the held delivery to be queued", async () => {
      const r = await site.db.query("select 1 from ess.deliveries where ordering_key = 'BP-HELD'");
      return (r.rowCount ?? 0) > 0;
    });
    await new Promise((r) => setTimeout(r, 1000));
    const held = await site.db.query<{ state: string; attempts: number }>(
      "select state, attempts from ess.deliveries where ordering_key = 'BP-HELD'",
    );
    expect(held.rows[0]).toEqual({ state: "pending", attempts: 0 });
    expect((await readDrops(site.dropDir)).length).toBe(before);

    const resumed = await essctl(["resume", "city_drop", "--config", site.configPath, "--json"]);
    expect(JSON.parse(resumed.stdout)).toEqual({ connector: "city_drop", paused: false, changed: true });
    await waitFor("BP-HELD delivered after resume", async () =>
      (await readDrops(site.dropDir)).some((r) => r.id === "BP-HELD"),
    );
    const audit = await site.db.query<{ event: string }>(
      "select event from ess.audit where event in ('paused', 'resumed') and connector = 'city_drop' order by id",
    );
    expect(audit.rows.map((r) => r.event)).toEqual(["paused", "resumed"]);
    const unknown = await essctl(["pause", "no_such_connector", "--config", site.configPath]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no connector named no_such_connector/);
  });
});
