// Replication slot and publication housekeeping on the source database.
import type pg from "pg";
import type { Lsn, TableRef } from "../change/change.js";
import { parseLsn } from "../change/lsn.js";
import { assertPlainIdentifier } from "../sql/sql-identifier.js";

export class SourceSetupError extends Error {
  override readonly name = "SourceSetupError";
  constructor(
    message: string,
    /** SQL a DBA can run to fix the problem. */
    readonly fixSql?: string,
  ) {
    super(fixSql ? `${message}\n  fix: ${fixSql}` : message);
  }
}

export interface SlotState {
  readonly created: boolean;
  readonly confirmedFlushLsn: Lsn;
  readonly restartLsn: Lsn | null;
}

export async function ensureSlot(client: pg.ClientBase, slot: string, plugin: string): Promise<SlotState> {
  assertPlainIdentifier("replication slot", slot);
  const existing = await readSlot(client, slot);
  if (existing) {
    if (existing.plugin !== plugin) {
      throw new SourceSetupError(
        `replication slot ${slot} uses the ${existing.plugin} plugin, the configuration says ${plugin}`,
        `select pg_drop_replication_slot('${slot}');  -- only once every change it holds has been delivered`,
      );
    }
    return { created: false, confirmedFlushLsn: existing.confirmed, restartLsn: existing.restart };
  }
  try {
    await client.query("select pg_create_logical_replication_slot($1, $2)", [slot, plugin]);
  } catch (error) {
    // Another ESS process created it first: use theirs.
    if ((error as { code?: string }).code !== "42710") throw error;
  }
  const created = await readSlot(client, slot);
  if (!created) {
    // Slot names are global to the server: the name may be taken by another database's slot.
    const elsewhere = await client.query<{ database: string }>(
      "select database from pg_replication_slots where slot_name = $1",
      [slot],
    );
    const owner = elsewhere.rows[0]?.database;
    throw new SourceSetupError(
      owner
        ? `replication slot ${slot} already exists in database ${owner}; slot names are global to the server: choose another replication.slot`
        : `replication slot ${slot} could not be created`,
    );
  }
  return { created: true, confirmedFlushLsn: created.confirmed, restartLsn: created.restart };
}

async function readSlot(
  client: pg.ClientBase,
  slot: string,
): Promise<{ plugin: string; confirmed: Lsn; restart: Lsn | null } | null> {
  const result = await client.query<{ plugin: string; confirmed_flush_lsn: string | null; restart_lsn: string | null }>(
    `select plugin, confirmed_flush_lsn::text, restart_lsn::text
       from pg_replication_slots where slot_name = $1 and database = current_database()`,
    [slot],
  );
  const row = result.rows[0];
  if (!row) return null;
  return {
    plugin: row.plugin,
    confirmed: row.confirmed_flush_lsn ? parseLsn(row.confirmed_flush_lsn) : 0n,
    restart: row.restart_lsn ? parseLsn(row.restart_lsn) : null,
  };
}

/** The publication must exist and publish every mapped table. */
export async function verifyPublication(
  client: pg.ClientBase,
  publication: string,
  tables: readonly TableRef[],
): Promise<void> {
  assertPlainIdentifier("publication", publication);
  const pub = await client.query("select 1 from pg_publication where pubname = $1", [publication]);
  if (pub.rowCount === 0) {
    throw new SourceSetupError(
      `publication ${publication} does not exist`,
      `create publication ${publication} for table ${tables.map(qualified).join(", ") || "<tables>"};`,
    );
  }
  const published = await client.query<{ schemaname: string; tablename: string }>(
    "select schemaname, tablename from pg_publication_tables where pubname = $1",
    [publication],
  );
  const have = new Set(published.rows.map((r) => `${r.schemaname}.${r.tablename}`));
  const missing = tables.filter((t) => !have.has(`${t.schema}.${t.name}`));
  if (missing.length > 0) {
    throw new SourceSetupError(
      `publication ${publication} does not publish ${missing.map((t) => `${t.schema}.${t.name}`).join(", ")}`,
      `alter publication ${publication} add table ${missing.map(qualified).join(", ")};`,
    );
  }
}

function qualified(table: TableRef): string {
  const quote = (s: string) => (/^[a-z_][a-z0-9_]*$/.test(s) ? s : `"${s.replaceAll('"', '""')}"`);
  return `${quote(table.schema)}.${quote(table.name)}`;
}
