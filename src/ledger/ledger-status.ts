// Reads, without changing anything, how far the ledger schema is migrated and whether the connecting role may use it.
import { sql } from "kysely";
import type pg from "pg";
import { ledgerDb } from "./ledger-db.js";
import { type MigrationFile, readMigrationFiles } from "./migration-files.js";

export interface LedgerStatus {
  readonly database: string;
  readonly schema: string;
  /** The role ESS connects to the ledger as. */
  readonly role: string;
  readonly superuser: boolean;
  /** Shipped migrations not applied yet, in order. */
  readonly pending: readonly MigrationFile[];
  /** Ledger tables the role cannot read and write (empty when it can use them all, or nothing is migrated). */
  readonly inaccessible: readonly string[];
}

export async function readLedgerStatus(
  client: pg.ClientBase,
  schema: string,
  files?: readonly MigrationFile[],
): Promise<LedgerStatus> {
  const shipped = files ?? (await readMigrationFiles());
  // Catalog lookups by name, not to_regclass(): those fail outright on a schema the role may not use.
  const db = ledgerDb(client, schema);
  const found = await sql<{
    database: string;
    role: string;
    superuser: boolean;
    usage: boolean | null;
    migrations: number | null;
    can_read: boolean | null;
  }>`
    select current_database() as database, current_user as role, r.rolsuper as superuser,
            has_schema_privilege(n.oid, 'USAGE') as usage,
            c.oid as migrations,
            case when c.oid is not null then has_table_privilege(c.oid, 'SELECT') end as can_read
       from pg_roles r
       left join pg_namespace n on n.nspname = ${schema}
       left join pg_class c on c.relnamespace = n.oid and c.relname = 'migrations' and c.relkind = 'r'
      where r.rolname = current_user`.execute(db);
  const row = found.rows[0];
  if (!row) throw new Error("the current role is missing from pg_roles");
  const base = { database: row.database, schema, role: row.role, superuser: row.superuser };
  if (row.migrations === null) return { ...base, pending: shipped, inaccessible: [] };
  const inaccessible = await sql<{ name: string }>`
    select c.relname as name
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = ${schema} and c.relkind in ('r', 'p')
        and not (has_schema_privilege(n.oid, 'USAGE')
                 and has_table_privilege(c.oid, 'SELECT') and has_table_privilege(c.oid, 'INSERT')
                 and has_table_privilege(c.oid, 'UPDATE') and has_table_privilege(c.oid, 'DELETE'))
      order by c.relname`.execute(db);
  if (!row.usage || !row.can_read) {
    // Which versions are applied cannot be read: report access first, migrations once it is granted.
    return { ...base, pending: [], inaccessible: inaccessible.rows.map((r) => r.name) };
  }
  const applied = await db.selectFrom("migrations").select("version").execute();
  const done = new Set(applied.map((r) => r.version));
  return {
    ...base,
    pending: shipped.filter((f) => !done.has(f.version)),
    inaccessible: inaccessible.rows.map((r) => r.name),
  };
}
