import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { EssEngine } from "../../src/engine.js";
import { migrate } from "../../src/ledger/migrate.js";
import { capturedLogger, readyz, scrape } from "../ops/ops-client.js";
import { waitFor } from "../support/capture-fixture.js";
import { type PostgresServer, startEmbeddedPostgres } from "../support/embedded-server.js";
import { fileDropConnector, PERMITS_TABLE, permitStatusMapping } from "../support/ess-site.js";
import { essctl } from "../support/essctl.js";

const SLOT = "ess_invalidated";

async function run(url: string, sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

describe("an invalidated slot", () => {
  let server: PostgresServer;
  let dir: string;
  let engine: EssEngine | undefined;

  beforeAll(async () => {
    // Its own server: a small max_slot_wal_keep_size must not reach the other tests' slots.
    server = await startEmbeddedPostgres({ settings: { max_slot_wal_keep_size: "1MB" } });
    await run(server.url(), PERMITS_TABLE);
    await run(server.url(), `select pg_create_logical_replication_slot('${SLOT}', 'pgoutput')`);
    await migrate({ connectionString: server.url(), schema: "ess" });
    dir = await mkdtemp(join(tmpdir(), "ess-invalidated-"));
    await mkdir(join(dir, "connectors"));
    await mkdir(join(dir, "mappings"));
    await mkdir(join(dir, "drop"));
    await writeFile(join(dir, "connectors", "city_drop.yaml"), fileDropConnector("city_drop", join(dir, "drop")));
    await writeFile(join(dir, "mappings", "permit_status.yaml"), permitStatusMapping("city_drop"));
    await writeFile(
      join(dir, "ess.yaml"),
      [
        "database:",
        `  url: ${server.url()}`,
        "replication:",
        `  slot: ${SLOT}`,
        "  publication: ess_pub",
        "  heartbeat: 1s",
        "connectors: ./connectors",
        "mappings: ./mappings",
        "http:",
        "  listen: 127.0.0.1:0",
        "",
      ].join("\n"),
    );
  });
  afterAll(async () => {
    await engine?.stop();
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("is alarmed (ess_replication_stalled cause slot_invalidated, /readyz red, an audit row) and essctl stats and check print the recovery", async () => {
    // ESS is stopped while the server writes more WAL than max_slot_wal_keep_size allows the slot to keep.
    for (let i = 0; i < 4; i++) {
      await run(server.url(), `insert into permits (id, status) values ('LOST-${i}', 'NEW')`);
      await run(server.url(), "select pg_switch_wal()");
    }
    await run(server.url(), "checkpoint");
    const status = await run(server.url(), `select wal_status from pg_replication_slots where slot_name = '${SLOT}'`);
    expect(status.rows[0]?.wal_status).toBe("lost");

    const log = capturedLogger();
    const config = await loadConfig(join(dir, "ess.yaml"), { env: {} });
    engine = await EssEngine.create(config, { logger: log.logger, processMetrics: false, statusIntervalMs: 200 });
    const { url } = await engine.listen();
    void engine.start().catch(() => undefined);

    await waitFor("/readyz to name the invalidated slot", async () => {
      const r = await readyz(url);
      return r.status === 503 && JSON.stringify(r.body).includes("is invalidated");
    });
    const ready = await readyz(url);
    expect(ready.body.checks.stall?.detail).toContain(`replication slot ${SLOT} is invalidated (wal_removed)`);
    expect(ready.body.checks.stall?.detail).toContain(`pg_drop_replication_slot('${SLOT}')`);
    const metrics = await scrape(url);
    expect(metrics.value("ess_replication_stalled", { cause: "slot_invalidated" })).toBe(1);

    await waitFor("the audit row", async () => {
      const r = await run(server.url(), "select error, detail from ess.audit where event = 'slot_invalidated'");
      return (r.rowCount ?? 0) === 1;
    });
    const audit = await run(server.url(), "select error, detail from ess.audit where event = 'slot_invalidated'");
    expect(audit.rows[0]?.error).toContain("changes were lost");
    expect(JSON.stringify(audit.rows[0]?.detail)).toContain(
      "essctl backfill <mapping> for each mapping (permit_status)",
    );
    // Logged once as an error, not once per sample.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(log.lines().filter((l) => String(l.msg).includes("is invalidated")).length).toBe(1);

    const stats = await essctl(["stats", "--config", join(dir, "ess.yaml")]);
    expect(stats.code, stats.stderr).toBe(0);
    expect(stats.stdout).toContain(`INVALIDATED: replication slot ${SLOT} is invalidated (wal_removed)`);
    expect(stats.stdout).toContain(`1. on the source: select pg_drop_replication_slot('${SLOT}');`);
    expect(stats.stdout).toContain("3. essctl start --accept-source-change");
    expect(stats.stdout).toContain("4. essctl backfill <mapping> for each mapping (permit_status)");
    const statsJson = await essctl(["stats", "--json", "--config", join(dir, "ess.yaml")]);
    expect(JSON.parse(statsJson.stdout).replication).toMatchObject({ invalidation: "wal_removed" });

    const check = await essctl(["check", "--config", join(dir, "ess.yaml")]);
    expect(check.code, check.stdout + check.stderr).toBe(2);
    expect(check.stdout + check.stderr).toContain(`replication slot ${SLOT} is invalidated (wal_removed)`);
    expect(check.stdout + check.stderr).toContain(`select pg_drop_replication_slot('${SLOT}');`);
    expect(check.stdout + check.stderr).toContain("essctl start --accept-source-change");
  }, 180_000);
});
