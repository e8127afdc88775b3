// The schedule recipes deliver as written, on a wall clock this test moves: a window with no zone
// ("Mon-Fri 06:00-22:00", read in ess.yaml's timezone), "every morning at 9 a.m." (a daily drop
// of everything due at 09:00), and "every 60s", whose mapping is a .json file. Only the drop
// directory differs from the recipes' own lines.
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../support/capture-fixture.js";
import { createSite, type EssSite } from "../support/ess-site.js";
import { deliveriesOf } from "./ledger-watch.js";
import { type RunningEngine, runEngine } from "./running-engine.js";

/** The wall clock the schedules read; the test sets it (New York is UTC-4 in April 2025). */
let clock = new Date("2025-04-12T15:00:00Z"); // Saturday 11:00 in New York

describe("schedule recipes deliver on their clock", () => {
  let site: EssSite;
  let engine: RunningEngine | undefined;
  const drops: { connector: string; nextDrop: string }[] = [];

  beforeAll(async () => {
    site = await createSite("partners-recipe-schedules", ({ dropDir }) => ({
      essYaml: "timezone: America/New_York",
      connectors: {
        city_window: [
          "name: city_window",
          "adapter: file",
          `file: { dir: ${dropDir}, file: "city_{batch}.txt" }`,
          'schedule: "Mon-Fri 06:00-22:00"',
          "",
        ].join("\n"),
        morning_drop: [
          "name: morning_drop",
          "adapter: file",
          `file: { dir: ${dropDir}, file: "morning_{batch}.txt" }`,
          "schedule: every morning at 9 a.m.",
          "",
        ].join("\n"),
        gis_every: [
          "name: gis_every",
          "adapter: file",
          `file: { dir: ${dropDir}, file: "gis_{batch}.json" }`,
          "schedule: every 60s",
          "",
        ].join("\n"),
      },
      mappings: {
        permits_city: [
          "name: permits_city",
          "source: { table: public.permits }",
          "targets:",
          "  - connector: city_window",
          "    format: fixed-width",
          "    fields: { PERMIT_ID: id | width:10 }",
          "  - connector: morning_drop",
          "    format: csv",
          "    fields: { permit_id: id }",
          "",
        ].join("\n"),
      },
    }));
    await writeFile(
      join(site.dir, "mappings", "permits_gis.json"),
      JSON.stringify(
        {
          name: "permits_gis",
          source: { table: "public.permits" },
          target: "gis_every",
          format: "json",
          fields: { permit_id: "id" },
        },
        null,
        2,
      ),
    );
    engine = await runEngine(await site.load(), {
      scheduleClock: () => clock,
      events: { onDropDone: (connector, next) => drops.push({ connector, nextDrop: next?.toISOString() ?? "" }) },
    });
  });

  afterAll(async () => {
    await engine?.stop();
    await site?.cleanup();
  });

  const files = async (prefix: string) => (await readdir(site.dropDir)).filter((n) => n.startsWith(prefix)).sort();
  const states = async (connector: string) => (await deliveriesOf(site.db, connector)).map((d) => d.state);

  it("holds outside the zone-less window and before 09:00, drops at 09:00, opens the window in New York time", async () => {
    // Started on Saturday 11:00: the morning drop it missed (Saturday 09:00) had nothing to send,
    // so it waits for Sunday 09:00 New York time (13:00 UTC).
    await waitFor("the missed morning drop served", async () => drops.some((d) => d.connector === "morning_drop"));
    expect(drops.filter((d) => d.connector === "morning_drop").map((d) => d.nextDrop)).toEqual([
      "2025-04-13T13:00:00.000Z",
    ]);

    await site.db.query(
      "insert into permits (id, status, amount) values ('BP-1', 'APPROVED', 1), ('BP-2', 'APPROVED', 2)",
    );
    // every 60s: the first batch goes at once (the .json mapping delivers).
    await waitFor("gis_every sent", async () => (await states("gis_every")).join() === "sent,sent");
    const gis = await Promise.all((await files("gis_")).map((n) => readFile(join(site.dropDir, n), "utf8")));
    expect(gis.join("")).toBe('{"permit_id":"BP-1"}\n{"permit_id":"BP-2"}\n');
    // Saturday: outside the window; before Sunday 09:00: no drop.
    expect(await states("city_window")).toEqual(["pending", "pending"]);
    expect(await states("morning_drop")).toEqual(["pending", "pending"]);

    clock = new Date("2025-04-13T12:59:59Z"); // Sunday 08:59:59 New York
    await site.db.query("insert into permits (id, status, amount) values ('BP-3', 'APPROVED', 3)");
    await waitFor("gis_every has BP-3 queued", async () => (await states("gis_every")).length === 3);
    expect(await files("morning_")).toEqual([]);

    clock = new Date("2025-04-13T13:00:00Z"); // Sunday 09:00 New York: one drop with everything due
    await waitFor("the morning drop written", async () => (await states("morning_drop")).every((s) => s === "sent"));
    const morning = await files("morning_");
    expect(morning).toHaveLength(1);
    expect(await readFile(join(site.dropDir, morning[0] ?? ""), "utf8")).toBe("permit_id\r\nBP-1\r\nBP-2\r\nBP-3\r\n");
    await waitFor("the drop done", async () => drops.filter((d) => d.connector === "morning_drop").length === 2);
    expect(drops.filter((d) => d.connector === "morning_drop").at(-1)?.nextDrop).toBe("2025-04-14T13:00:00.000Z");
    expect(await states("city_window")).toEqual(["pending", "pending", "pending"]);

    // Monday 21:00 New York is 01:00 UTC on Tuesday: open only if the window is read in New York.
    clock = new Date("2025-04-15T01:00:00Z");
    await waitFor("the window open", async () => (await states("city_window")).every((s) => s === "sent"));
    const city = await Promise.all((await files("city_")).map((n) => readFile(join(site.dropDir, n), "utf8")));
    expect(city.join("")).toBe("BP-1      \r\nBP-2      \r\nBP-3      \r\n");

    // Monday 22:00 New York closes it again.
    clock = new Date("2025-04-15T02:00:00Z");
    await site.db.query("insert into permits (id, status, amount) values ('BP-4', 'APPROVED', 4)");
    await waitFor("gis_every has BP-4 queued", async () => (await states("gis_every")).length === 4);
    await waitFor("city_window has BP-4 queued", async () => (await states("city_window")).length === 4);
    expect((await states("city_window")).at(-1)).toBe("pending");
  });
});
