import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate, pendingMigrationSql } from "../../src/ledger/migrate.js";
import { readMigrationFiles } from "../../src/ledger/migration-files.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

describe("ledger migrations", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase("ledger-migrate");
  });
  afterAll(async () => {
    await db.drop();
  });

  it("applies every shipped version once, and a second run finds them applied", async () => {
    const files = await readMigrationFiles();
    expect(files.length).toBeGreaterThan(0);
    const first = await migrate({ connectionString: db.url, schema: "ess" });
    expect(first.results.map((r) => r.status)).toEqual(files.map(() => "applied"));
    const second = await migrate({ connectionString: db.url, schema: "ess" });
    expect(second.results.map((r) => r.status)).toEqual(files.map(() => "already-applied"));
    const versions = await db.query<{ version: number }>("select version from ess.migrations order by version");
    expect(versions.rows.map((r) => r.version)).toEqual(files.map((f) => f.version));
  });

  it("lets two migrators run at once on a fresh schema: one applies, the other waits and finds it done", async () => {
    const reports = await Promise.all([
      migrate({ connectionString: db.url, schema: "ess_concurrent" }),
      migrate({ connectionString: db.url, schema: "ess_concurrent" }),
      migrate({ connectionString: db.url, schema: "ess_concurrent" }),
    ]);
    const applied = reports.flatMap((r) => r.results.filter((x) => x.status === "applied"));
    const files = await readMigrationFiles();
    expect(applied).toHaveLength(files.length);
    const count = await db.query<{ n: string }>("select count(*) as n from ess_concurrent.migrations");
    expect(Number(count.rows[0]?.n)).toBe(files.length);
  });

  it("creates the feed, checkpoints and an append-only audit trail in the configured schema", async () => {
    await migrate({ connectionString: db.url, schema: "ledger_x" });
    const tables = await db.query<{ table_name: string }>(
      "select table_name from information_schema.tables where table_schema = 'ledger_x' order by 1",
    );
    expect(tables.rows.map((r) => r.table_name)).toEqual(expect.arrayContaining(["audit", "checkpoints", "feed"]));
    await db.query("insert into ledger_x.audit (event) values ('captured')");
    await expect(db.query("update ledger_x.audit set event = 'forged'")).rejects.toThrow(/append-only/);
  });

  it("prints the pending SQL for a DBA instead of running it, and running that SQL migrates", async () => {
    const sql = await pendingMigrationSql({ connectionString: db.url, schema: "by_hand" });
    expect(sql).toContain('create schema if not exists "by_hand"');
    expect(sql).toContain('create table "by_hand".feed');
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
    const report = await migrate({ connectionString: db.url, schema: "by_hand" });
    expect(report.results.every((r) => r.status === "already-applied")).toBe(true);
  });

  it("refuses a schema name that is not a plain identifier", async () => {
    await expect(migrate({ connectionString: db.url, schema: 'ess"; drop table x; --' })).rejects.toThrow(
      /not a valid name/,
    );
  });
});
