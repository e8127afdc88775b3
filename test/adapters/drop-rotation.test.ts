// rotate: removes only this connector's own old drop files (and their done files), each removal audited.
import { mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { batchFileName } from "../../src/adapters/drop-delivery.js";
import { templatePattern } from "../../src/adapters/drop-rotation.js";
import { FileAdapter } from "../../src/adapters/file-adapter.js";
import { DropRotationTask } from "../../src/delivery/drop-rotation-task.js";
import { migrate } from "../../src/ledger/migrate.js";
import { silentLogger } from "../../src/ops/logger.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { fileConnector } from "./drop-fixtures.js";

const DAY = 86_400_000;
const NOW = new Date("2025-06-20T12:00:00Z");

describe("drop file templates as patterns", () => {
  it.each([
    ["permit_{date:%Y%m%d}_{batch}.txt", "permit_20250601_000012.txt", true],
    ["permit_{date:%Y%m%d}_{batch}.txt", "permit_2025061_000012.txt", false],
    ["permit_{date:%Y%m%d}_{batch}.txt", "permit_20250601_000012.txt.part", false],
    ["permit_{date:%Y%m%d}_{batch}.txt", "permit_20250601_notes.txt", false],
    ["{connector}_{batch:4}.csv", "city_0001.csv", true],
    ["{connector}_{batch:4}.csv", "county_0001.csv", false],
    ["fees.{date:%Y-%m-%d}.csv", "fees.2025-06-01.csv", true],
    ["fees.{date:%Y-%m-%d}.csv", "feesX2025-06-01.csv", false],
  ])("%s %s %s", (template, name, matches) => {
    expect(templatePattern(template, "city").test(name)).toBe(matches);
  });
});

describe("rotate: 7d in a file drop", () => {
  let dir: string;
  let db: TestDatabase;
  let pool: pg.Pool;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ess-rotate-"));
    db = await createTestDatabase("drop-rotation");
    await migrate({ connectionString: db.url, schema: "ess" });
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
  });

  afterAll(async () => {
    await pool?.end();
    await db?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  async function file(name: string, ageDays: number): Promise<void> {
    await writeFile(join(dir, name), "x\r\n");
    const at = new Date(NOW.getTime() - ageDays * DAY);
    await utimes(join(dir, name), at, at);
  }

  it("removes only its own files older than the period, with their done files, and audits each removal", async () => {
    await file("permit_20250601_000001.txt", 19);
    await file("permit_20250601_000001.txt.done", 19);
    await file("permit_20250610_000002.txt", 10);
    await file("permit_20250618_000003.txt", 2);
    await file("permit_20250618_000003.txt.done", 2);
    // Not this connector's: another partner's file, a note, a half upload, a different template.
    await file("treasury_20250601.dat", 30);
    await file("permit_notes.txt", 30);
    await file("permit_20250601_000004.txt.part", 30);
    await file("README", 400);

    const adapter = new FileAdapter(fileConnector(dir, { doneFile: "{file}.done", rotateMs: 7 * DAY }), {
      logger: silentLogger(),
    });
    const task = new DropRotationTask("city_hall_files", 7 * DAY, adapter, pool, "ess", silentLogger());
    const removed = await task.rotateNow(NOW);

    expect([...removed].sort()).toEqual(
      ["permit_20250601_000001.txt", "permit_20250601_000001.txt.done", "permit_20250610_000002.txt"].map((n) =>
        join(dir, n),
      ),
    );
    expect((await readdir(dir)).sort()).toEqual([
      "README",
      "permit_20250601_000004.txt.part",
      "permit_20250618_000003.txt",
      "permit_20250618_000003.txt.done",
      "permit_notes.txt",
      "treasury_20250601.dat",
    ]);
    const audit = await pool.query<{ connector: string; file: string }>(
      "select connector, detail->>'file' as file from ess.audit where event = 'rotated' order by id",
    );
    expect(audit.rows.map((r) => [r.connector, r.file])).toEqual(removed.map((f) => ["city_hall_files", f]));

    // Nothing left to rotate: a second run removes nothing and audits nothing more.
    expect(await task.rotateNow(NOW)).toEqual([]);
  });
});

describe("rotate on an append file: the file of each period", () => {
  const settings = (rotateMs: number, file: string, dateTimezone?: string) => ({
    file,
    mode: "append" as const,
    tempSuffix: "",
    rotateMs,
    ...(dateTimezone ? { dateTimezone } : {}),
  });
  const nameAt = (at: string, rotateMs: number, file: string, zone?: string) =>
    batchFileName(settings(rotateMs, file, zone), { connector: "payroll", sequence: 1, createdAt: new Date(at) });

  it.each([
    // 1d periods start at the zone's midnight, before and after the spring-forward night.
    ["2025-03-09T03:59:00Z", DAY, "America/New_York", "permits_20250308.csv"],
    ["2025-03-09T05:00:00Z", DAY, "America/New_York", "permits_20250309.csv"],
    ["2025-03-10T03:59:00Z", DAY, "America/New_York", "permits_20250309.csv"],
    ["2025-03-10T04:00:00Z", DAY, "America/New_York", "permits_20250310.csv"],
    // 7d periods start on Mondays (2025-06-16, 2025-06-23).
    ["2025-06-22T23:59:59Z", 7 * DAY, undefined, "permits_20250616.csv"],
    ["2025-06-23T00:00:00Z", 7 * DAY, undefined, "permits_20250623.csv"],
  ])("%s with a period of %d ms in %s is in %s", (at, rotateMs, zone, name) => {
    expect(nameAt(at, rotateMs, "permits_{date:%Y%m%d}.csv", zone)).toBe(name);
  });

  it("hourly periods name the hour; without rotate the name follows the batch's own time", () => {
    expect(nameAt("2025-06-20T10:59:59Z", 3_600_000, "p_{date:%Y%m%d%H%M}.csv")).toBe("p_202506201000.csv");
    expect(nameAt("2025-06-20T11:00:00Z", 3_600_000, "p_{date:%Y%m%d%H%M}.csv")).toBe("p_202506201100.csv");
    expect(
      batchFileName(
        { file: "p_{date:%Y%m%d%H%M}.csv", mode: "append", tempSuffix: "" },
        { connector: "payroll", sequence: 1, createdAt: new Date("2025-06-20T10:59:59Z") },
      ),
    ).toBe("p_202506201059.csv");
  });
});
