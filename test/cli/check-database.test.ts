// essctl check against a live database: each case breaks one thing a DBA sets up, expects the problem and
// the fixing SQL, runs exactly what was printed, and expects check to pass.

import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { migrate } from "../../src/ledger/migrate.js";
import { adminUrl, createTestDatabase } from "../support/database.js";
import { startEmbeddedPostgres } from "../support/embedded-server.js";
import {
  createSite,
  type EssSite,
  fileDropConnector,
  PERMITS_TABLE,
  permitStatusMapping,
} from "../support/ess-site.js";
import { essctl, essctlHere } from "../support/essctl.js";
import { freePort } from "../support/free-port.js";

const SQL_HEADER = "-- SQL a DBA must run:";

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function site(label: string): Promise<EssSite> {
  const created = await createSite(`check-database-${label}`, ({ dropDir }) => ({
    connectors: { drop: fileDropConnector("drop", dropDir) },
    mappings: { permit_status: permitStatusMapping("drop") },
  }));
  cleanups.push(() => created.cleanup());
  return created;
}

async function writeMapping(target: EssSite, name: string, lines: readonly string[]): Promise<void> {
  await writeFile(join(target.dir, "mappings", `${name}.yaml`), `${lines.join("\n")}\n`);
}

/** A mapping of a few columns to the file drop connector as CSV. */
function csvMapping(name: string, table: string, fields: Readonly<Record<string, string>>, extra: string[] = []) {
  return [
    `name: ${name}`,
    "source:",
    `  table: ${table}`,
    ...extra,
    "targets:",
    "  - connector: drop",
    "    format: csv",
    "    fields:",
    ...Object.entries(fields).map(([field, spec]) => `      ${field}: ${spec}`),
  ];
}

interface Failed {
  readonly stderr: string;
  /** The statements printed under "-- SQL a DBA must run:". */
  readonly sql: readonly string[];
}

async function checkFails(configPath: string): Promise<Failed> {
  const run = await essctlHere(["check", "--config", configPath]);
  expect(run.code, run.stderr).toBe(2);
  expect(run.stdout).toBe("");
  const lines = run.stderr.trimEnd().split("\n");
  const start = lines.indexOf(SQL_HEADER);
  // The SQL block runs from its header to the summary line.
  return { stderr: run.stderr, sql: start < 0 ? [] : lines.slice(start + 1, -1) };
}

/** `bin`: through the essctl bin as a child process rather than in-process. */
async function checkPasses(configPath: string, bin = false): Promise<string> {
  const run = await (bin ? essctl : essctlHere)(["check", "--config", configPath]);
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  expect(run.stdout).toContain("configuration valid");
  expect(run.stdout).toContain("(checked: configuration, database)");
  return run.stdout;
}

/** As a DBA would: each printed statement on its own (ALTER SYSTEM refuses a transaction block). */
async function runAsDba(url: string, statements: readonly string[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    await client.end();
  }
}

describe.concurrent("essctl check against the database", () => {
  it("passes on a site set up as the SPEC describes", async () => {
    const s = await site("ok");
    await checkPasses(s.configPath, true);
  });

  it("a missing publication is reported with its CREATE PUBLICATION", async () => {
    const s = await site("no-pub");
    await s.db.query("drop publication ess_pub");
    const failed = await checkFails(s.configPath);
    expect(failed.stderr).toContain(`publication ess_pub does not exist in database ${s.db.name}`);
    expect(failed.stderr).toContain('  fix: CREATE PUBLICATION "ess_pub" FOR TABLE "public"."permits";');
    expect(failed.sql).toEqual(['CREATE PUBLICATION "ess_pub" FOR TABLE "public"."permits";']);
    await runAsDba(s.db.url, failed.sql);
    await checkPasses(s.configPath);
  });

  it("a publication missing a mapped table or an operation gets ALTER PUBLICATION; --json prints one document", async () => {
    const s = await site("pub-table");
    await s.db.query(`
      create table public.hearings (id integer primary key, permit_id text not null, held_on date);
      alter publication ess_pub set (publish = 'insert, update');
    `);
    await writeMapping(s, "hearings", csvMapping("hearings", "public.hearings", { id: "id", on: "held_on" }));
    const run = await essctlHere(["check", "--json", "--config", s.configPath]);
    expect(run.code, run.stderr).toBe(2);
    const report = JSON.parse(run.stdout);
    const addTable = 'ALTER PUBLICATION "ess_pub" ADD TABLE "public"."hearings";';
    const publishDeletes = "ALTER PUBLICATION \"ess_pub\" SET (publish = 'insert, update, delete');";
    expect(report).toMatchObject({
      ok: false,
      phases: [
        { name: "configuration", ok: true },
        { name: "database", ok: false },
      ],
      problems: [
        {
          phase: "database",
          message: "publication ess_pub does not publish public.hearings",
          fix: addTable,
          sql: [addTable],
        },
        {
          phase: "database",
          message: "publication ess_pub does not publish deletes, which mappings hearings, permit_status take",
          fix: publishDeletes,
          sql: [publishDeletes],
        },
      ],
      info: [],
      sql: [addTable, publishDeletes],
    });
    await runAsDba(s.db.url, report.sql);
    await checkPasses(s.configPath);
  });

  it("a mapped table that does not exist names the mapping file; once created, the publication is completed", async () => {
    const s = await site("no-table");
    const file = join(s.dir, "mappings", "visits.yaml");
    await writeMapping(s, "visits", csvMapping("visits", "public.visits", { family: "family" }));
    const failed = await checkFails(s.configPath);
    expect(failed.stderr).toContain(
      `${file}: source.table: table public.visits does not exist in database ${s.db.name}`,
    );
    expect(failed.stderr).toContain("  fix: create the table, or correct source.table");
    expect(failed.sql).toEqual([]);
    await s.db.query("create table public.visits (family text primary key, new_date date)");
    const next = await checkFails(s.configPath);
    expect(next.sql).toEqual(['ALTER PUBLICATION "ess_pub" ADD TABLE "public"."visits";']);
    await runAsDba(s.db.url, next.sql);
    await checkPasses(s.configPath);
  });

  it("a column the mapping reads that does not exist, or a bytea in a fixed-width field, points at the field's line", async () => {
    const s = await site("columns");
    await s.db.query("alter table public.permits add column scan bytea");
    const file = join(s.dir, "mappings", "permit_status.yaml");
    const original = await readFile(file, "utf8");
    const broken = original
      .replace("STATUS: status | width:10", "STATUS: statuss | width:10")
      .replace("      TS:", "      SCAN: scan | width:20\n      TS:");
    await writeFile(file, broken);
    const failed = await checkFails(s.configPath);
    expect(failed.stderr).toMatch(
      new RegExp(
        `${regexText(file)}:11:\\d+: targets\\[0\\]\\.fields\\.STATUS: column statuss does not exist in table public\\.permits; did you mean "status"\\?`,
      ),
    );
    expect(failed.stderr).toMatch(
      new RegExp(
        `${regexText(file)}:12:\\d+: targets\\[0\\]\\.fields\\.SCAN: column scan of public\\.permits is bytea \\(raw bytes\\): a fixed-width field carries text`,
      ),
    );
    expect(failed.stderr).toContain("fix: correct the column name in the mapping, or add the column to public.permits");
    expect(failed.stderr).toContain("fix: map a column of a text, number or date type instead");
    await writeFile(file, original);
    await checkPasses(s.configPath);
  });

  it("tables without a usable replica identity get the ALTER TABLE … REPLICA IDENTITY that fixes them", async () => {
    const s = await site("identity");
    await s.db.query(`
      alter table public.permits replica identity nothing;
      create table public.visit_log (family text not null, note text);
      create table public.hearings (id integer primary key, permit_id text not null);
      alter publication ess_pub add table public.visit_log, public.hearings;
    `);
    await writeMapping(
      s,
      "visit_log",
      csvMapping("visit_log", "public.visit_log", { family: "family" }, ["  key: [family]"]),
    );
    await writeMapping(s, "hearings", csvMapping("hearings", "public.hearings", { id: "id" }, ["  key: [permit_id]"]));
    const failed = await checkFails(s.configPath);
    expect(failed.stderr).toContain(
      "table public.permits has REPLICA IDENTITY NOTHING: updates and deletes carry no key, and PostgreSQL refuses them once the table is published",
    );
    expect(failed.stderr).toContain("table public.visit_log has no primary key and REPLICA IDENTITY DEFAULT");
    expect(failed.stderr).toContain(
      "deletes from public.hearings carry only id (its replica identity), not permit_id of the key of mapping hearings",
    );
    expect([...failed.sql].sort()).toEqual([
      'ALTER TABLE "public"."hearings" REPLICA IDENTITY FULL;',
      'ALTER TABLE "public"."permits" REPLICA IDENTITY DEFAULT;',
      'ALTER TABLE "public"."visit_log" REPLICA IDENTITY FULL;',
    ]);
    await runAsDba(s.db.url, failed.sql);
    await checkPasses(s.configPath);
  });

  it("a role without REPLICATION, SELECT and ledger access gets the ALTER ROLE and GRANTs, its password never shown", async () => {
    const s = await site("role");
    const suffix = randomBytes(4).toString("hex");
    const role = `ess "Reader" ${suffix}`;
    const quoted = `"ess ""Reader"" ${suffix}"`;
    const password = `Reader-Pw-${suffix}`;
    const admin = new pg.Client({ connectionString: adminUrl() });
    await admin.connect();
    try {
      await admin.query(`create role ${quoted} login password '${password}'`);
    } finally {
      await admin.end();
    }
    cleanups.push(async () => {
      await s.db.drop();
      await runAsDba(adminUrl(), [`drop role if exists ${quoted}`]);
    });
    const url = new URL(s.db.url);
    url.username = encodeURIComponent(role);
    url.password = password;
    const yamlPath = s.configPath;
    await writeFile(yamlPath, (await readFile(yamlPath, "utf8")).replace(`url: ${s.db.url}`, `url: ${url.toString()}`));

    const failed = await checkFails(s.configPath);
    expect(failed.stderr).not.toContain(password);
    expect(failed.stderr).toContain(`role ${quoted} has no REPLICATION attribute`);
    expect(failed.stderr).toContain(`role ${quoted} cannot read table public.permits (no SELECT)`);
    expect(failed.stderr).toContain(`role ${quoted} cannot read and write the ledger tables in schema ess`);
    expect(failed.sql).toEqual([
      `GRANT SELECT ON TABLE "public"."permits" TO ${quoted};`,
      `ALTER ROLE ${quoted} WITH REPLICATION;`,
      `GRANT USAGE ON SCHEMA "ess" TO ${quoted};`,
      `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "ess" TO ${quoted};`,
      `GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA "ess" TO ${quoted};`,
    ]);
    await runAsDba(s.db.url, failed.sql);
    const passed = await checkPasses(s.configPath);
    expect(passed).not.toContain(password);
  });

  it("a ledger that is not migrated is fixed by essctl migrate", async () => {
    const s = await site("ledger");
    await s.db.query("drop schema ess cascade");
    const failed = await checkFails(s.configPath);
    expect(failed.stderr).toMatch(
      new RegExp(
        `ledger schema ess in database ${s.db.name} is not migrated: \\d+ migrations? pending \\(000001 change-feed`,
      ),
    );
    expect(failed.stderr).toContain("fix: essctl migrate");
    expect(failed.sql).toEqual([]);
    const migrated = await essctlHere(["migrate", "--config", s.configPath]);
    expect(migrated.code, migrated.stderr).toBe(0);
    await checkPasses(s.configPath);
  });

  it("a slot with another plugin is a problem; a slot not created yet is only a note", async () => {
    const s = await site("slot-plugin");
    const slot = `slot_${s.db.name}`;
    await s.db.query("select pg_drop_replication_slot($1)", [slot]);
    await s.db.query("select pg_create_logical_replication_slot($1, 'test_decoding')", [slot]);
    const failed = await checkFails(s.configPath);
    expect(failed.stderr).toContain(
      `replication slot ${slot} uses the test_decoding plugin, the configuration says pgoutput`,
    );
    const drop = `SELECT pg_drop_replication_slot('${slot}');  -- only once every change it holds has been delivered`;
    expect(failed.sql).toEqual([drop]);
    await runAsDba(s.db.url, failed.sql);
    const passed = await checkPasses(s.configPath);
    expect(passed).toContain(`note: replication slot ${slot} does not exist yet: essctl start creates it`);
  });

  it("a slot name taken in another database is a problem with the configuration change", async () => {
    const s = await site("slot-taken");
    const slot = `slot_${s.db.name}`;
    const other = await createTestDatabase("check-database-slot-owner");
    cleanups.push(() => other.drop());
    await s.db.query("select pg_drop_replication_slot($1)", [slot]);
    await other.query("select pg_create_logical_replication_slot($1, 'pgoutput')", [slot]);
    const failed = await checkFails(s.configPath);
    expect(failed.stderr).toContain(`replication slot ${slot} already exists in database ${other.name}`);
    expect(failed.stderr).toContain(
      "fix: slot names are global to the server: choose another replication.slot in ess.yaml",
    );
    await other.query("select pg_drop_replication_slot($1)", [slot]);
    await checkPasses(s.configPath);
  });

  it("wal_level below logical is reported with its ALTER SYSTEM (a private server started with replica)", async () => {
    const server = await startEmbeddedPostgres({ settings: { wal_level: "replica" } });
    cleanups.push(() => server.stop());
    const url = server.url("postgres");
    await runAsDba(url, [PERMITS_TABLE]);
    await migrate({ connectionString: url, schema: "ess" });
    const dir = await configDir(url, "ess_main");
    const failed = await checkFails(join(dir, "ess.yaml"));
    expect(failed.stderr).toContain(
      "wal_level is replica on the server of database postgres: logical replication needs wal_level = logical",
    );
    expect(failed.sql).toEqual(["ALTER SYSTEM SET wal_level = logical;  -- takes effect when PostgreSQL restarts"]);
    // The server's -c flag outranks postgresql.auto.conf, so a restart would not show the effect here.
    await runAsDba(url, failed.sql);
  });

  it("a database that cannot be reached is a runtime failure (exit 1) without the password; --offline skips it", async () => {
    const port = await freePort();
    const dir = await configDir(`postgres://ess:Unreachable-Pw-5517@127.0.0.1:${port}/hms`, "ess_main");
    const run = await essctl(["check", "--config", join(dir, "ess.yaml")]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`cannot connect to the source database postgres://ess:***@127.0.0.1:${port}/hms`);
    expect(run.stderr).toContain("ECONNREFUSED");
    expect(run.stderr).not.toContain("Unreachable-Pw-5517");
    const offline = await essctlHere(["check", "--offline", "--config", join(dir, "ess.yaml")]);
    expect(offline.code, offline.stderr).toBe(0);
    expect(offline.stdout).toContain("(checked: configuration)");
  });
});

/** A configuration directory for a database not made by createSite. */
async function configDir(url: string, slot: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "ess-check-db-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, "connectors"));
  await mkdir(join(dir, "mappings"));
  await mkdir(join(dir, "drop"));
  const ess = ["database:", `  url: ${url}`, "replication:", `  slot: ${slot}`, "  publication: ess_pub", ""];
  await writeFile(join(dir, "ess.yaml"), ess.join("\n"));
  await writeFile(join(dir, "connectors", "drop.yaml"), fileDropConnector("drop", join(dir, "drop")));
  await writeFile(join(dir, "mappings", "permit_status.yaml"), permitStatusMapping("drop"));
  return dir;
}

function regexText(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
