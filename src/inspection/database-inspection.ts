// Reads from the source database's catalogs what ESS depends on: settings, role, publication, mapped tables and the slot.
import type pg from "pg";
import type { TableRef } from "../change/change.js";
import { slotInvalidation } from "./slot-invalidation.js";

export interface RoleInspection {
  readonly name: string;
  readonly superuser: boolean;
  readonly replication: boolean;
}

export interface PublicationInspection {
  readonly allTables: boolean;
  readonly publishes: {
    readonly insert: boolean;
    readonly update: boolean;
    readonly delete: boolean;
    readonly truncate: boolean;
  };
  /** "schema.name" of every table it publishes (listed, or through FOR TABLES IN SCHEMA). */
  readonly tables: ReadonlySet<string>;
}

/** How a column's type can travel: text formats take scalars only (see database-rules). */
export type ColumnKind = "scalar" | "bytea" | "array" | "composite";

export interface ColumnInspection {
  readonly name: string;
  /** As PostgreSQL prints it: "numeric(12,2)", "bytea", "hms.address". */
  readonly type: string;
  /** Of the base type, domains resolved. */
  readonly kind: ColumnKind;
}

export type RelationKind = "table" | "partitioned table" | "view" | "materialized view" | "foreign table" | "other";

export interface TableInspection {
  readonly table: TableRef;
  readonly kind: RelationKind;
  readonly replicaIdentity: "default" | "nothing" | "full" | "index";
  /** Primary key columns in key order; empty without a primary key. */
  readonly primaryKey: readonly string[];
  /** Columns of the REPLICA IDENTITY USING INDEX index; null when the table has none (the index was dropped). */
  readonly identityIndex: readonly string[] | null;
  readonly columns: ReadonlyMap<string, ColumnInspection>;
  readonly canSelect: boolean;
  readonly schemaUsage: boolean;
}

export interface SlotInspection {
  /** The database the slot belongs to; null for a physical slot. */
  readonly database: string | null;
  readonly plugin: string | null;
  readonly type: "logical" | "physical";
  /** Why the slot can no longer stream; null while usable. */
  readonly invalidation: string | null;
  /** Created with failover = true (PostgreSQL 17+; false before). */
  readonly failover: boolean;
}

export interface SourceInspection {
  readonly database: string;
  readonly walLevel: string;
  readonly role: RoleInspection;
  /** Null when the publication does not exist. */
  readonly publication: PublicationInspection | null;
  /** Mapped tables that exist, by "schema.name"; a mapped table missing here does not exist. */
  readonly tables: ReadonlyMap<string, TableInspection>;
  /** Null when no slot of that name exists on the server. */
  readonly slot: SlotInspection | null;
}

export function tableKey(table: TableRef): string {
  return `${table.schema}.${table.name}`;
}

export async function inspectSource(
  client: pg.ClientBase,
  wanted: { readonly publication: string; readonly slot: string; readonly tables: readonly TableRef[] },
): Promise<SourceInspection> {
  const server = await client.query<{
    database: string;
    wal_level: string;
    name: string;
    superuser: boolean;
    replication: boolean;
  }>(
    `select current_database() as database, current_setting('wal_level') as wal_level,
            r.rolname as name, r.rolsuper as superuser, r.rolreplication as replication
       from pg_roles r where r.rolname = current_user`,
  );
  const row = server.rows[0];
  if (!row) throw new Error("the current role is missing from pg_roles");
  return {
    database: row.database,
    walLevel: row.wal_level,
    role: { name: row.name, superuser: row.superuser, replication: row.replication },
    publication: await inspectPublication(client, wanted.publication),
    tables: await inspectTables(client, wanted.tables),
    slot: await inspectSlot(client, wanted.slot),
  };
}

async function inspectPublication(client: pg.ClientBase, name: string): Promise<PublicationInspection | null> {
  const pub = await client.query<{
    oid: number;
    puballtables: boolean;
    pubinsert: boolean;
    pubupdate: boolean;
    pubdelete: boolean;
    pubtruncate: boolean;
  }>("select oid, puballtables, pubinsert, pubupdate, pubdelete, pubtruncate from pg_publication where pubname = $1", [
    name,
  ]);
  const row = pub.rows[0];
  if (!row) return null;
  // pg_publication_tables lists the partitions, not the root, of a partitioned table published
  // without publish_via_partition_root; pg_publication_rel has the table as the DBA named it.
  const tables = await client.query<{ schema: string; name: string }>(
    `select schemaname as schema, tablename as name from pg_publication_tables where pubname = $1
     union
     select n.nspname, c.relname
       from pg_publication_rel pr
       join pg_class c on c.oid = pr.prrelid
       join pg_namespace n on n.oid = c.relnamespace
      where pr.prpubid = $2`,
    [name, row.oid],
  );
  return {
    allTables: row.puballtables,
    publishes: { insert: row.pubinsert, update: row.pubupdate, delete: row.pubdelete, truncate: row.pubtruncate },
    tables: new Set(tables.rows.map((t) => tableKey(t))),
  };
}

const RELATION_KINDS: Readonly<Record<string, RelationKind>> = {
  r: "table",
  p: "partitioned table",
  v: "view",
  m: "materialized view",
  f: "foreign table",
};

const REPLICA_IDENTITIES = { d: "default", n: "nothing", f: "full", i: "index" } as const;

async function inspectTables(
  client: pg.ClientBase,
  tables: readonly TableRef[],
): Promise<Map<string, TableInspection>> {
  const found = new Map<string, TableInspection>();
  if (tables.length === 0) return found;
  const relations = await client.query<{
    oid: number;
    schema: string;
    name: string;
    relkind: string;
    relreplident: keyof typeof REPLICA_IDENTITIES;
    schema_usage: boolean;
    can_select: boolean;
    primary_key: string[] | null;
    identity_index: string[] | null;
  }>(
    `select c.oid, n.nspname as schema, c.relname as name, c.relkind, c.relreplident,
            has_schema_privilege(n.oid, 'USAGE') as schema_usage,
            has_table_privilege(c.oid, 'SELECT') as can_select,
            (select array_agg(a.attname::text order by k.ord)
               from pg_index i
               cross join lateral unnest(i.indkey) with ordinality as k(attnum, ord)
               join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
              where i.indrelid = c.oid and i.indisprimary) as primary_key,
            (select array_agg(a.attname::text order by k.ord)
               from pg_index i
               cross join lateral unnest(i.indkey) with ordinality as k(attnum, ord)
               join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
              where i.indrelid = c.oid and i.indisreplident) as identity_index
       from unnest($1::text[], $2::text[]) as wanted(schema, name)
       join pg_namespace n on n.nspname = wanted.schema
       join pg_class c on c.relnamespace = n.oid and c.relname = wanted.name`,
    [tables.map((t) => t.schema), tables.map((t) => t.name)],
  );
  const columns = await inspectColumns(
    client,
    relations.rows.map((r) => r.oid),
  );
  for (const r of relations.rows) {
    const table = { schema: r.schema, name: r.name };
    found.set(tableKey(table), {
      table,
      kind: RELATION_KINDS[r.relkind] ?? "other",
      replicaIdentity: REPLICA_IDENTITIES[r.relreplident],
      primaryKey: r.primary_key ?? [],
      identityIndex: r.identity_index,
      columns: columns.get(r.oid) ?? new Map(),
      canSelect: r.can_select,
      schemaUsage: r.schema_usage,
    });
  }
  return found;
}

async function inspectColumns(
  client: pg.ClientBase,
  relations: readonly number[],
): Promise<Map<number, Map<string, ColumnInspection>>> {
  // A domain is judged by the type underneath it (domains over domains included).
  const result = await client.query<{ relid: number; name: string; type: string; kind: ColumnKind }>(
    `select a.attrelid as relid, a.attname as name, format_type(a.atttypid, a.atttypmod) as type,
            case when b.oid = 'bytea'::regtype then 'bytea'
                 when b.typcategory = 'A' then 'array'
                 when b.typtype = 'c' then 'composite'
                 else 'scalar' end as kind
       from pg_attribute a
       cross join lateral (
         with recursive chain(oid, depth) as (
           select a.atttypid, 0
           union all
           select t.typbasetype, chain.depth + 1 from chain join pg_type t on t.oid = chain.oid where t.typtype = 'd'
         )
         select oid from chain order by depth desc limit 1
       ) base
       join pg_type b on b.oid = base.oid
      where a.attrelid = any($1::oid[]) and a.attnum > 0 and not a.attisdropped`,
    [relations],
  );
  const byRelation = new Map<number, Map<string, ColumnInspection>>();
  for (const row of result.rows) {
    let columns = byRelation.get(row.relid);
    if (!columns) {
      columns = new Map();
      byRelation.set(row.relid, columns);
    }
    columns.set(row.name, { name: row.name, type: row.type, kind: row.kind });
  }
  return byRelation;
}

async function inspectSlot(client: pg.ClientBase, slot: string): Promise<SlotInspection | null> {
  const result = await client.query<{
    database: string | null;
    plugin: string | null;
    slot_type: string;
    wal_status: string | null;
    invalidation_reason: string | null;
    failover: string | null;
  }>(
    // invalidation_reason and failover exist from PostgreSQL 17: read through jsonb so older servers answer null.
    `select s.database, s.plugin, s.slot_type, s.wal_status,
            to_jsonb(s) ->> 'invalidation_reason' as invalidation_reason, to_jsonb(s) ->> 'failover' as failover
       from pg_replication_slots s where s.slot_name = $1`,
    [slot],
  );
  const row = result.rows[0];
  if (!row) return null;
  return {
    database: row.database,
    plugin: row.plugin,
    type: row.slot_type === "physical" ? "physical" : "logical",
    invalidation: slotInvalidation(row.wal_status, row.invalidation_reason),
    failover: row.failover === "true",
  };
}
