import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { upgradePlan } from "../../src/source/upgrade-plan.js";
import { createSite, type EssSite, fileDropConnector, permitStatusMapping } from "../support/ess-site.js";
import { essctl } from "../support/essctl.js";

const base = { slot: "ess_main", mappings: ["permit_status"], caughtUpBytes: 65536 };
const drained = { lagBytes: 0, undelivered: 0, slotExists: true };

describe("essctl upgrade-plan", () => {
  it("before PostgreSQL 17 the slot is lost: a new slot, the publication check, the accepted change and a backfill", () => {
    const plan = upgradePlan({ ...base, fromMajor: 15, toMajor: 16 }, drained);
    expect(plan).toMatchObject({ drained: true, slotSurvives: false });
    expect(plan.steps.join("\n")).toContain("before PostgreSQL 17 logical slots are not carried over");
    expect(plan.steps.join("\n")).toContain("essctl start --accept-source-change");
    expect(plan.steps.join("\n")).toContain("essctl backfill <mapping> for each mapping (permit_status)");
  });

  it("from PostgreSQL 17 on, pg_upgrade carries the slot over", () => {
    const plan = upgradePlan({ ...base, fromMajor: 17, toMajor: 18 }, drained);
    expect(plan.slotSurvives).toBe(true);
    expect(plan.steps.join("\n")).toContain("carries the logical slot ess_main over");
  });

  it("names what is not drained yet", () => {
    const plan = upgradePlan(
      { ...base, fromMajor: 17, toMajor: 18 },
      { lagBytes: 900_000, undelivered: 3, slotExists: true },
    );
    expect(plan.drained).toBe(false);
    expect(plan.waitingFor).toEqual([
      "the slot ess_main is 900000 bytes behind the server: let essctl start capture it",
      "3 deliveries are pending, sending or retrying",
    ]);
  });

  describe("against a server", () => {
    let site: EssSite;
    beforeAll(async () => {
      site = await createSite("upgrade-plan", ({ dropDir }) => ({
        connectors: { city_drop: fileDropConnector("city_drop", dropDir) },
        mappings: { permit_status: permitStatusMapping("city_drop") },
      }));
    });
    afterAll(async () => {
      await site?.cleanup();
    });

    it("exits 1 while changes wait behind the slot, printing the steps for this server's version", async () => {
      await site.db.query("insert into permits (id, status) select 'U' || g, 'NEW' from generate_series(1, 2000) g");
      const result = await essctl(["upgrade-plan", "--config", site.configPath]);
      expect(result.code, result.stderr).toBe(1);
      expect(result.stdout).toMatch(/^NOT DRAINED: the slot slot_\w+ is \d+ bytes behind the server/);
      expect(result.stdout).toContain("Once drained, upgrade from PostgreSQL 17 to 18:");
      expect(result.stdout).toContain("carries the logical slot");
      const json = await essctl(["upgrade-plan", "--json", "--to", "19", "--config", site.configPath]);
      expect(JSON.parse(json.stdout)).toMatchObject({ fromMajor: 17, toMajor: 19, drained: false, slotSurvives: true });
    }, 120_000);
  });
});
