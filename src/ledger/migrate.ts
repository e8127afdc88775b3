// Applies the ledger migrations under an advisory lock, one transaction per version, and reports what it did.
import { sql } from "kysely";
import pg from "pg";
import { assertPlainIdentifier, quoteIdentifier } from "../sql/sql-identifier.js";
import { type LedgerDb, ledgerDb } from "./ledger-db.js";
import { type MigrationFile, readMigrationFiles, renderMigration } from "./migration-files.js";

export interface MigrationResult {
  readonly version: number;
  readonly name: string;
  /** applied now, or found already applied (by this or an earlier run, or by a concurrent one). */
  readonly status: "applied" | "already-applied";
}

export interface MigrationReport {
  readonly schema: string;
  readonly results: readonly MigrationResult[];
}

export interface MigrateOptions {
  readonly connectionString: string;
  readonly schema: string;
  /** How long to wait for another migrator's lock before giving up. */
  readonly lockTimeoutMs?: number;
  readonly files?: readonly MigrationFile[];
}

export class MigrationError extends Error {
  override readonly name = "MigrationError";
  readonly version: number;
  readonly migrationName: string;
  /** The SQLSTATE, when the server answered. */
  readonly code: string | undefined;
  constructor(
    message: string,
    options: {
      readonly version: number;
      readonly migrationName: string;
      readonly code: string | undefined;
      readonly cause?: unknown;
    },
  ) {
    super(message, "cause" in options ? { cause: options.cause } : undefined);
    this.version = options.version;
    this.migrationName = options.migrationName;
    this.code = options.code;
  }
}

/** Two keys for pg_advisory_lock: a constant namespace and the schema, so ledgers in one database do not block each other. */
const LOCK_NAMESPACE = 0x455353; // "ESS"

export async function migrate(options: MigrateOptions): Promise<MigrationReport> {
  const schema = assertPlainIdentifier("ledger schema", options.schema);
  const files = options.files ?? (await readMigrationFiles());
  const client = new pg.Client({ connectionString: options.connectionString });
  await client.connect();
  const db = ledgerDb(client, schema);
  try {
    const timeout = sql.lit(Math.max(1, Math.floor(options.lockTimeoutMs ?? 60_000)));
    await sql`set lock_timeout = ${timeout}`.execute(db);
    // A session lock held across all versions: a second migrator waits here, then finds
    // everything applied. (Per-statement lock_timeout does not bound advisory waits; statement_timeout does.)
    await sql`set statement_timeout = ${timeout}`.execute(db);
    await sql`select pg_advisory_lock(${LOCK_NAMESPACE}, hashtext(${schema}))`.execute(db);
    await sql`set statement_timeout = 0`.execute(db);
    try {
      return { schema, results: await applyPending(client, db, schema, files) };
    } finally {
      await sql`select pg_advisory_unlock(${LOCK_NAMESPACE}, hashtext(${schema}))`.execute(db);
    }
  } finally {
    await client.end();
  }
}

async function applyPending(
  client: pg.Client,
  db: LedgerDb,
  schema: string,
  files: readonly MigrationFile[],
): Promise<MigrationResult[]> {
  // CREATE SCHEMA asks for CREATE on the database even when the schema exists: a DBA who made the
  // schema for the ESS role (`create schema ess authorization ess`) grants nothing on the database.
  const found = await sql`select 1 from pg_namespace where nspname = ${schema}`.execute(db);
  if (found.rows.length === 0) await db.schema.createSchema(schema).ifNotExists().execute();
  await db.schema
    .createTable("migrations")
    .ifNotExists()
    .addColumn("version", "integer", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("applied_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  const done = await db.selectFrom("migrations").select("version").execute();
  const applied = new Set(done.map((r) => r.version));
  const results: MigrationResult[] = [];
  for (const file of files) {
    if (applied.has(file.version)) {
      results.push({ version: file.version, name: file.name, status: "already-applied" });
      continue;
    }
    try {
      await client.query("begin");
      // A file of many statements: sent without parameters, so PostgreSQL runs them all.
      await client.query(renderMigration(file, schema));
      await db.insertInto("migrations").values({ version: file.version, name: file.name }).execute();
      await client.query("commit");
    } catch (error) {
      await client.query("rollback").catch(() => undefined);
      const code = (error as { code?: string }).code;
      throw new MigrationError(
        `migration ${file.version} (${file.name}) failed${code ? ` [SQLSTATE ${code}]` : ""}: ${(error as Error).message}`,
        { version: file.version, migrationName: file.name, code, cause: error },
      );
    }
    results.push({ version: file.version, name: file.name, status: "applied" });
  }
  return results;
}

/** The SQL a DBA can review and run by hand instead of `essctl migrate`. */
export async function pendingMigrationSql(options: MigrateOptions): Promise<string> {
  const files = options.files ?? (await readMigrationFiles());
  const schema = assertPlainIdentifier("ledger schema", options.schema);
  const client = new pg.Client({ connectionString: options.connectionString });
  await client.connect();
  let applied = new Set<number>();
  try {
    const db = ledgerDb(client, schema);
    const exists = await sql<{
      t: string | null;
    }>`select to_regclass(${`${quoteIdentifier(schema)}.migrations`}) as t`.execute(db);
    if (exists.rows[0]?.t) {
      const done = await db.selectFrom("migrations").select("version").execute();
      applied = new Set(done.map((r) => r.version));
    }
  } finally {
    await client.end();
  }
  const q = quoteIdentifier(schema);
  const parts = [
    `create schema if not exists ${q};`,
    `create table if not exists ${q}.migrations (version integer primary key, name text not null, applied_at timestamptz not null default now());`,
  ];
  for (const file of files.filter((f) => !applied.has(f.version))) {
    parts.push(
      `-- ${file.version} ${file.name}\nbegin;\n${renderMigration(file, schema).trim()}\ninsert into ${q}.migrations (version, name) values (${file.version}, '${file.name}');\ncommit;`,
    );
  }
  return `${parts.join("\n\n")}\n`;
}
