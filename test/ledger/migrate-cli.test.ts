import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { essctl } from "../support/essctl.js";

describe("essctl migrate", () => {
  let db: TestDatabase;
  let dir: string;
  let config: string;
  beforeAll(async () => {
    db = await createTestDatabase("migrate-cli");
    dir = await mkdtemp(join(tmpdir(), "ess-migrate-"));
    config = join(dir, "ess.yaml");
    await mkdir(join(dir, "connectors"));
    await mkdir(join(dir, "mappings"));
    await writeFile(
      config,
      `database:\n  url: ${db.url}\nledger:\n  schema: ess_cli\nreplication:\n  slot: s_cli\n  publication: p_cli\n`,
    );
  });
  afterAll(async () => {
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it("run twice in a row, and two at once, all succeed; --json reports the applied versions", async () => {
    const [a, b] = await Promise.all([
      essctl(["migrate", "--config", config, "--json"]),
      essctl(["--config", config, "migrate", "--json"]),
    ]);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    const reports = [a, b].map(
      (r) => JSON.parse(r.stdout) as { schema: string; results: { version: number; status: string }[] },
    );
    const applied = reports.flatMap((r) => r.results.filter((x) => x.status === "applied").map((x) => x.version));
    expect(applied.length).toBeGreaterThan(0);
    expect(new Set(applied).size).toBe(applied.length);
    const again = await essctl(["migrate", "--config", config, "--json"]);
    expect(again.code).toBe(0);
    const report = JSON.parse(again.stdout) as { schema: string; results: { version: number; status: string }[] };
    expect(report.schema).toBe("ess_cli");
    expect(report.results.map((r) => r.status)).toEqual(report.results.map(() => "already-applied"));
    expect(report.results.map((r) => r.version)).toEqual([...applied].sort((x, y) => x - y));
  });

  it("prints the SQL for a DBA with --sql and exits 2 on a broken configuration", async () => {
    const sql = await essctl(["migrate", "--config", config, "--sql"]);
    expect(sql.code).toBe(0);
    expect(sql.stdout).toContain('create schema if not exists "ess_cli"');
    // A configuration placeholder, not a JavaScript template.
    const unset = ["$", "{NOT_SET_ANYWHERE}"].join("");
    await writeFile(
      join(dir, "bad.yaml"),
      `database:\n  url: ${unset}\nreplication:\n  slot: s_cli\n  publication: p_cli\n`,
    );
    const bad = await essctl(["migrate", "--config", join(dir, "bad.yaml")]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/bad\.yaml:2/);
  });
});
