// Replication slot and publication housekeeping on the source database.
import pg from "pg";
import type { Lsn, TableRef } from "../change/change.js";
import { parseLsn } from "../change/lsn.js";
import { isDuplicateObject } from "../sql/pg-error.js";
import { assertPlainIdentifier, identifierLabel } from "../sql/sql-identifier.js";

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
  /** A failover slot (PostgreSQL 17+): slot synchronisation keeps it on the standbys. */
  readonly failover: boolean;
}

export interface SlotOptions {
  /** Create it with failover = true (PostgreSQL 17+). */
  readonly failover?: boolean;
}

export async function ensureSlot(
  client: pg.ClientBase,
  slot: string,
  plugin: string,
  options: SlotOptions = {},
): Promise<SlotState> {
  assertPlainIdentifier("replication slot", slot);
  const existing = await readSlot(client, slot);
  if (existing) {
    if (existing.plugin !== plugin) {
      throw new SourceSetupError(
        `replication slot ${slot} uses the ${existing.plugin} plugin, the configuration says ${plugin}`,
        `select pg_drop_replication_slot('${slot}');  -- only once every change it holds has been delivered`,
      );
    }
    return {
      created: false,
      confirmedFlushLsn: existing.confirmed,
      restartLsn: existing.restart,
      failover: existing.failover,
    };
  }
  if (options.failover) await requireFailoverSlots(client);
  try {
    // Arguments: name, plugin, temporary, two-phase, failover (the fifth exists from PostgreSQL 17).
    if (options.failover) {
      await client.query("select pg_create_logical_replication_slot($1, $2, false, false, true)", [slot, plugin]);
    } else {
      await client.query("select pg_create_logical_replication_slot($1, $2)", [slot, plugin]);
    }
  } catch (error) {
    // Another ESS process created it first: use theirs.
    if (!isDuplicateObject(error)) throw error;
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
  return {
    created: true,
    confirmedFlushLsn: created.confirmed,
    restartLsn: created.restart,
    failover: created.failover,
  };
}

/** The server's version as a number (150004 for 15.4). */
export async function serverVersionNum(client: pg.ClientBase): Promise<number> {
  const version = await client.query<{ v: string }>("select current_setting('server_version_num') as v");
  return Number(version.rows[0]?.v ?? 0);
}

async function requireFailoverSlots(client: pg.ClientBase): Promise<void> {
  const number = await serverVersionNum(client);
  if (number < 170000) {
    throw new SourceSetupError(
      `replication.failover needs PostgreSQL 17 or newer (failover slots); the source runs ${Math.floor(number / 10000)}: set replication.failover: false, and after a failover follow the README's procedure (a new slot and essctl backfill)`,
    );
  }
}

/**
 * Turns an existing slot into a failover slot (PostgreSQL 17+), over a replication connection
 * as ALTER_REPLICATION_SLOT requires; the slot must not be in use.
 */
export async function enableSlotFailover(connectionString: string, slot: string): Promise<void> {
  const name = assertPlainIdentifier("replication slot", slot);
  const client = new pg.Client({
    connectionString,
    application_name: "ess-capture-setup",
    replication: "database",
  } as pg.ClientConfig);
  client.on("error", () => undefined);
  await client.connect();
  try {
    await client.query(`ALTER_REPLICATION_SLOT "${name}" ( FAILOVER true )`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function readSlot(
  client: pg.ClientBase,
  slot: string,
): Promise<{ plugin: string; confirmed: Lsn; restart: Lsn | null; failover: boolean } | null> {
  const result = await client.query<{
    plugin: string;
    confirmed_flush_lsn: string | null;
    restart_lsn: string | null;
    failover: string | null;
  }>(
    // failover exists from PostgreSQL 17: read through jsonb so older servers answer null.
    `select s.plugin, s.confirmed_flush_lsn::text, s.restart_lsn::text, to_jsonb(s) ->> 'failover' as failover
       from pg_replication_slots s where s.slot_name = $1 and s.database = current_database()`,
    [slot],
  );
  const row = result.rows[0];
  if (!row) return null;
  return {
    plugin: row.plugin,
    confirmed: row.confirmed_flush_lsn ? parseLsn(row.confirmed_flush_lsn) : 0n,
    restart: row.restart_lsn ? parseLsn(row.restart_lsn) : null,
    failover: row.failover === "true",
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
  return `${identifierLabel(table.schema)}.${identifierLabel(table.name)}`;
}
