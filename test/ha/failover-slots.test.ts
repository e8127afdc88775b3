import { readFile, writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { primaryUrl, sourceHostUrls } from "../../src/source/source-hosts.js";
import { waitFor } from "../support/capture-fixture.js";
import { EssProcess } from "../support/ess-process.js";
import { createSite, type EssSite, fileDropConnector, permitStatusMapping } from "../support/ess-site.js";
import { essctl } from "../support/essctl.js";
import { freePort } from "../support/free-port.js";

describe("failover slots and a source given as several hosts", () => {
  let site: EssSite;
  let deadHostUrl: string;
  beforeAll(async () => {
    site = await createSite("failover-slots", ({ dropDir }) => ({
      connectors: { city_drop: fileDropConnector("city_drop", dropDir) },
      mappings: { permit_status: permitStatusMapping("city_drop") },
    }));
    // The first host answers nothing (a primary that is gone); the second is the real server.
    const url = new URL(site.db.url);
    deadHostUrl = site.db.url.replace(`@${url.host}`, `@127.0.0.1:${await freePort()},${url.host}`);
    const slot = (await site.load()).replication.slot;
    await site.db.query("select pg_drop_replication_slot($1)", [slot]);
    const text = await readFile(site.configPath, "utf8");
    await writeFile(
      site.configPath,
      text
        .replace(`  url: ${site.db.url}`, `  url: ${deadHostUrl}\nledger:\n  url: ${site.db.url}`)
        .replace("ledger:\n  schema: ess", "  schema: ess")
        .replace("  publication: ess_pub", "  publication: ess_pub\n  failover: true"),
    );
  });
  afterAll(async () => {
    await site?.cleanup();
  });

  it("splits a libpq multi-host URL and keeps the host that is not in recovery", async () => {
    expect(sourceHostUrls("postgres://ess:pw@db1:5432,db2:5433/hms?sslmode=require")).toEqual([
      "postgres://ess:pw@db1:5432/hms?sslmode=require",
      "postgres://ess:pw@db2:5433/hms?sslmode=require",
    ]);
    expect(await primaryUrl(deadHostUrl, 2_000)).toBe(site.db.url);
  });

  it("essctl start creates the slot with failover = true through the host that answers", async () => {
    const ess = EssProcess.start(site.configPath);
    try {
      await ess.waitForLog("replication started", 90_000);
      const slot = (await site.load()).replication.slot;
      const row = await site.db.query<{ failover: boolean }>(
        "select failover from pg_replication_slots where slot_name = $1",
        [slot],
      );
      expect(row.rows[0]?.failover).toBe(true);
      await site.db.query("insert into permits (id, status) values ('FO-1', 'NEW')");
      await waitFor("FO-1 captured", async () => {
        const r = await site.db.query("select 1 from ess.deliveries where ordering_key like '%FO-1%'");
        return (r.rowCount ?? 0) > 0;
      });
    } finally {
      await ess.kill9();
    }
  }, 180_000);

  it("essctl check prints what slot synchronisation lacks on the primary", async () => {
    const result = await essctl(["check", "--config", site.configPath]);
    const out = result.stdout + result.stderr;
    expect(result.code, out).toBe(2);
    expect(out).toContain("on the primary: synchronized_standby_slots is empty");
    expect(out).toContain("alter system set synchronized_standby_slots = '<the standby's physical slot>';");
    expect(out).toContain("select pg_reload_conf();");
  }, 120_000);
});
