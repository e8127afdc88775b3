// Applies the ledger migrations under an advisory lock, one transaction per version, and reports what it did.
import pg from "pg";
import { assertPlainIdentifier, quoteIdentifier } from "../sql/sql-identifier.js";
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
  constructor(
    readonly version: number,
    readonly migrationName: string,
    readonly code: string | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Two keys for pg_advisory_lock: a constant namespace and the schema, so ledgers in one database do not block each other. */
const LOCK_NAMESPACE = 0x455353; // "ESS"

export async function migrate(options: MigrateOptions): Promise<MigrationReport> {
  const schema = assertPlainIdentifier("ledger schema", options.schema);
  const files = options.files ?? (await readMigrationFiles());
  const client = new pg.Client({ connectionString: options.connectionString });
  await client.connect();
  try {
    await client.query(`set lock_timeout = ${Math.max(1, Math.floor(options.lockTimeoutMs ?? 60_000))}`);
    // A session lock held across all versions: a second migrator waits here, then finds
    // everything applied. (Per-statement lock_timeout does not bound advisory waits; statement_timeout does.)
    await client.query(`set statement_timeout = ${Math.max(1, Math.floor(options.lockTimeoutMs ?? 60_000))}`);
    await client.query("select pg_advisory_lock($1, hashtext($2))", [LOCK_NAMESPACE, schema]);
    await client.query("set statement_timeout = 0");
    try {
      return { schema, results: await applyPending(client, schema, files) };
    } finally {
      await client.query("select pg_advisory_unlock($1, hashtext($2))", [LOCK_NAMESPACE, schema]);
    }
  } finally {
    await client.end();
  }
}

async function applyPending(
  client: pg.Client,
  schema: string,
  files: readonly MigrationFile[],
): Promise<MigrationResult[]> {
  const q = quoteIdentifier(schema);
  // CREATE SCHEMA asks for CREATE on the database even when the schema exists: a DBA who made the
  // schema for the ESS role (`create schema ess authorization ess`) grants nothing on the database.
  const found = await client.query("select 1 from pg_namespace where nspname = $1", [schema]);
  if (found.rowCount === 0) await client.query(`create schema if not exists ${q}`);
  await client.query(
    `create table if not exists ${q}.migrations (
       version integer primary key,
       name text not null,
       applied_at timestamptz not null default now()
     )`,
  );
  const done = await client.query<{ version: number }>(`select version from ${q}.migrations`);
  const applied = new Set(done.rows.map((r) => r.version));
  const results: MigrationResult[] = [];
  for (const file of files) {
    if (applied.has(file.version)) {
      results.push({ version: file.version, name: file.name, status: "already-applied" });
      continue;
    }
    try {
      await client.query("begin");
      await client.query(renderMigration(file, schema));
      await client.query(`insert into ${q}.migrations (version, name) values ($1, $2)`, [file.version, file.name]);
      await client.query("commit");
    } catch (error) {
      await client.query("rollback").catch(() => undefined);
      const code = (error as { code?: string }).code;
      throw new MigrationError(
        file.version,
        file.name,
        code,
        `migration ${file.version} (${file.name}) failed${code ? ` [SQLSTATE ${code}]` : ""}: ${(error as Error).message}`,
        { cause: error },
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
    const exists = await client.query("select to_regclass($1) as t", [`${quoteIdentifier(schema)}.migrations`]);
    if (exists.rows[0]?.t) {
      const done = await client.query<{ version: number }>(`select version from ${quoteIdentifier(schema)}.migrations`);
      applied = new Set(done.rows.map((r) => r.version));
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
