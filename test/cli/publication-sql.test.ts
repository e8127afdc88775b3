// essctl publication sql: the statements that publish the mapped tables and let ESS read them, with names quoted
// so that mixed case, spaces and quotes come out right; run as printed, they leave nothing for check to report.
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { RUN_AS_NOTE } from "../../src/inspection/publication-sql.js";
import { migrate } from "../../src/ledger/migrate.js";
import { adminUrl, createTestDatabase, type TestDatabase } from "../support/database.js";
import { fileDropConnector } from "../support/ess-site.js";
import { essctl } from "../support/essctl.js";
import { freePort } from "../support/free-port.js";

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

interface Site {
  readonly db: TestDatabase;
  readonly configPath: string;
}

interface SiteOptions {
  /** database.url; the test database's own (superuser) URL when absent. */
  readonly url?: string;
  /** ledger.url, when the ledger is reached with other credentials. */
  readonly ledgerUrl?: string;
  /** mappings/<name>.yaml: a source table and its CSV fields. */
  readonly mappings: Readonly<Record<string, { readonly table: string; readonly fields: readonly string[] }>>;
}

async function configDir(db: TestDatabase | undefined, options: SiteOptions): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "ess-publication-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  for (const sub of ["connectors", "mappings", "drop"]) await mkdir(join(dir, sub));
  const ess = [
    "database:",
    `  url: ${options.url ?? db?.url}`,
    ...(options.ledgerUrl ? ["ledger:", `  url: ${options.ledgerUrl}`] : []),
    "replication:",
    `  slot: slot_${db?.name ?? "offline"}`,
    "  publication: ess_pub",
    "",
  ];
  await writeFile(join(dir, "ess.yaml"), ess.join("\n"));
  await writeFile(join(dir, "connectors", "drop.yaml"), fileDropConnector("drop", join(dir, "drop")));
  for (const [name, mapping] of Object.entries(options.mappings)) {
    const lines = [
      `name: ${name}`,
      "source:",
      `  table: ${mapping.table}`,
      "targets:",
      "  - connector: drop",
      "    format: csv",
      "    fields:",
      ...mapping.fields.map((f) => `      ${f}`),
      "",
    ];
    await writeFile(join(dir, "mappings", `${name}.yaml`), lines.join("\n"));
  }
  return join(dir, "ess.yaml");
}

async function site(label: string, schema: string, options: SiteOptions): Promise<Site> {
  const db = await createTestDatabase(`publication-sql-${label}`);
  cleanups.push(() => db.drop());
  await db.query(schema);
  await migrate({ connectionString: db.url, schema: "ess" });
  return { db, configPath: await configDir(db, options) };
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function publicationSql(configPath: string, ...extra: string[]) {
  const run = await essctl(["publication", "sql", "--config", configPath, ...extra]);
  expect(run.code, run.stderr).toBe(0);
  return run;
}

/** Statements only: the printed notes are SQL comments. */
function statements(stdout: string): string[] {
  return stdout.split("\n").filter((line) => line !== "" && !line.startsWith("--"));
}

const ODD_NAMES_SCHEMA = `
  create schema "Hms ""Core""";
  create table "Hms ""Core"""."Permit ""Fees"" 2024" (id text primary key, "Fee Amount" numeric(12,2));
  create table public."Hearings" (permit_id text not null, held_on date);
`;

const ODD_MAPPINGS: SiteOptions["mappings"] = {
  fees: { table: `'"Hms ""Core"""."Permit ""Fees"" 2024"'`, fields: ["id: id", `amount: '"Fee Amount" | number:2'`] },
  hearings: { table: `'"Hearings"'`, fields: ["permit: permit_id", "held: held_on | format:%Y%m%d"] },
};

describe.concurrent("essctl publication sql", () => {
  it("quotes mixed case, spaces and quotes in schema, table and role names; the printed script makes check pass", async () => {
    const suffix = randomBytes(4).toString("hex");
    const quotedRole = `"ess ""Pub"" ${suffix}"`;
    const password = `Pub-Pw-${suffix}`;
    await adminQuery(`create role ${quotedRole} login password '${password}'`);
    const db = await createTestDatabase("publication-sql-odd-names");
    cleanups.push(async () => {
      await db.drop();
      await adminQuery(`drop role if exists ${quotedRole}`);
    });
    await db.query(ODD_NAMES_SCHEMA);
    await migrate({ connectionString: db.url, schema: "ess" });
    const url = new URL(db.url);
    url.username = encodeURIComponent(`ess "Pub" ${suffix}`);
    url.password = password;
    // The ledger is reached as the administrator: this case is about the source tables.
    const configPath = await configDir(db, { url: url.toString(), ledgerUrl: db.url, mappings: ODD_MAPPINGS });

    const first = await publicationSql(configPath);
    expect(first.stdout).not.toContain(password);
    const fees = `"Hms ""Core"""."Permit ""Fees"" 2024"`;
    expect(statements(first.stdout)).toEqual([
      `CREATE PUBLICATION "ess_pub" FOR TABLE ${fees}, "public"."Hearings";`,
      `ALTER TABLE "public"."Hearings" REPLICA IDENTITY FULL;`,
      `GRANT USAGE ON SCHEMA "Hms ""Core""" TO ${quotedRole};`,
      `GRANT SELECT ON TABLE ${fees} TO ${quotedRole};`,
      `GRANT SELECT ON TABLE "public"."Hearings" TO ${quotedRole};`,
      `ALTER ROLE ${quotedRole} WITH REPLICATION;`,
    ]);
    // The script says who runs it, and it means it: as the role ESS connects as, it is refused.
    expect(first.stdout.split("\n")[0]).toBe(`-- ${RUN_AS_NOTE}`);
    const asEss = new pg.Client({ connectionString: url.toString() });
    await asEss.connect();
    try {
      await expect(asEss.query(first.stdout)).rejects.toThrow(/permission denied for database|must be owner of table/);
    } finally {
      await asEss.end();
    }
    // Exactly as printed, comments and all, as a DBA would pipe it into psql.
    await db.query((await publicationSql(configPath)).stdout);
    const second = await publicationSql(configPath);
    expect(statements(second.stdout)).toEqual([]);
    expect(second.stdout).toContain(`-- database ${db.name} needs nothing more`);
    const check = await essctl(["check", "--config", configPath]);
    expect(check.stderr).toBe("");
    expect(check.code).toBe(0);
  });

  it("adds only the missing tables to an existing publication, and prints nothing when it is complete", async () => {
    const s = await site(
      "alter",
      "create table public.permits (id text primary key); create table public.fees (id text primary key); create publication ess_pub for table public.permits",
      {
        mappings: {
          permits: { table: "public.permits", fields: ["id: id"] },
          fees: { table: "public.fees", fields: ["id: id"] },
        },
      },
    );
    const first = await publicationSql(s.configPath);
    expect(statements(first.stdout)).toEqual(['ALTER PUBLICATION "ess_pub" ADD TABLE "public"."fees";']);
    await s.db.query(first.stdout);
    const json = await publicationSql(s.configPath, "--json");
    expect(JSON.parse(json.stdout)).toEqual({
      basis: "database",
      statements: [],
      notes: [
        `database ${s.db.name} needs nothing more: publication ess_pub publishes every mapped table, every table has a replica identity and the role may read them`,
      ],
    });
  });

  it("a mapped table that does not exist is left out and named in a note", async () => {
    const s = await site("missing", "create table public.permits (id text primary key)", {
      mappings: {
        permits: { table: "public.permits", fields: ["id: id"] },
        visits: { table: "public.visits", fields: ["family: family"] },
      },
    });
    const run = await publicationSql(s.configPath);
    expect(statements(run.stdout)).toEqual(['CREATE PUBLICATION "ess_pub" FOR TABLE "public"."permits";']);
    expect(run.stdout).toMatch(/^-- left out: .*visits\.yaml: source\.table: table public\.visits does not exist/m);
  });

  it("prints the statements for a new database when the database cannot be reached (or with --offline)", async () => {
    const port = await freePort();
    const configPath = await configDir(undefined, {
      url: `postgres://ess%20app:Offline-Pw-4410@127.0.0.1:${port}/hms`,
      mappings: ODD_MAPPINGS,
    });
    const run = await publicationSql(configPath);
    const fees = `"Hms ""Core"""."Permit ""Fees"" 2024"`;
    const expected = [
      `CREATE PUBLICATION "ess_pub" FOR TABLE ${fees}, "public"."Hearings";`,
      `GRANT USAGE ON SCHEMA "Hms ""Core""" TO "ess app";`,
      `GRANT USAGE ON SCHEMA "public" TO "ess app";`,
      `GRANT SELECT ON TABLE ${fees}, "public"."Hearings" TO "ess app";`,
      `ALTER ROLE "ess app" WITH REPLICATION;`,
    ];
    expect(statements(run.stdout)).toEqual(expected);
    expect(run.stdout).toContain("-- REPLICA IDENTITY depends on each table's primary key");
    expect(run.stderr).toContain(
      `cannot connect to the source database postgres://ess%20app:***@127.0.0.1:${port}/hms`,
    );
    expect(run.stderr).toContain("printing the statements for a new database");
    expect(`${run.stdout}${run.stderr}`).not.toContain("Offline-Pw-4410");

    const offline = await publicationSql(configPath, "--offline", "--json");
    expect(offline.stderr).toBe("");
    expect(JSON.parse(offline.stdout)).toMatchObject({ basis: "new-database", statements: expected });
  });

  it("refuses an action other than sql (exit 2)", async () => {
    const configPath = await configDir(undefined, { url: "postgres://ess@127.0.0.1:1/hms", mappings: {} });
    const run = await essctl(["publication", "create", "--config", configPath]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unknown publication action "create" (expected: sql)');
  });
});
