// Reads a table's current rows from one REPEATABLE READ snapshot, batch by batch through a cursor,
// as the typed values capture decodes from the stream (same session settings, same conversions).
import type pg from "pg";
import type { Lsn, TableRef } from "../change/change.js";
import { parseLsn } from "../change/lsn.js";
import type { Row, Value } from "../change/value.js";
import { setColumn } from "../source/row-object.js";
import { sessionSettingsSql } from "../source/session-settings.js";
import { converterFor, type ValueConverter } from "../source/value-conversion.js";
import { qualifiedTable, quoteIdentifier } from "../sql/sql-identifier.js";
import { BackfillMappingError, BackfillReadError } from "./backfill-errors.js";

export interface SnapshotPosition {
  /**
   * A WAL position read after the snapshot was taken: every transaction the snapshot sees wrote
   * its commit record before it, so once capture has confirmed this position, every change the
   * snapshot contains that the stream carries is in the ledger.
   */
  readonly lsn: Lsn;
  /** The snapshot's transaction start: the commit time backfilled deliveries carry. */
  readonly time: Date;
  /** pg_current_snapshot() as text: which transactions the snapshot sees. */
  readonly xids: string;
}

interface SnapshotColumn {
  readonly name: string;
  readonly convert: ValueConverter;
}

const CURSOR = "ess_backfill";

/** Every column as PostgreSQL's text output, which is what pgoutput sends and the conversions read. */
const TEXT_TYPES = { getTypeParser: () => (text: string) => text };

export class TableSnapshot {
  private done = false;

  private constructor(
    private readonly client: pg.ClientBase,
    private readonly table: TableRef,
    private readonly columns: readonly SnapshotColumn[],
    readonly position: SnapshotPosition,
  ) {}

  /**
   * Opens the snapshot on a dedicated connection and declares the cursor, ordered by the primary
   * key when the table has one (partners receive the rows in key order).
   */
  static async open(
    client: pg.ClientBase,
    mapping: string,
    table: TableRef,
    orderBy: readonly string[],
    /** The publication's column list for the table (pgoutput), when it limits the columns. */
    published: readonly string[] | null = null,
  ): Promise<TableSnapshot> {
    await client.query("begin isolation level repeatable read read only");
    try {
      for (const statement of sessionSettingsSql()) await client.query(statement);
      // The first query takes the snapshot; the position is read after it, inside it.
      const at = await client.query<{ lsn: string; time: Date; xids: string }>(
        "select pg_current_wal_insert_lsn()::text as lsn, now() as time, pg_current_snapshot()::text as xids",
      );
      const first = at.rows[0];
      if (!first) throw new Error("the snapshot position query returned no row");
      const position = { lsn: parseLsn(first.lsn), time: first.time, xids: first.xids };
      const columns = (await readColumns(client, mapping, table)).filter(
        (c) => published === null || published.includes(c.name),
      );
      const qualified = qualifiedTable(table);
      const order = orderBy.length > 0 ? ` order by ${orderBy.map(quoteIdentifier).join(", ")}` : "";
      await client.query(
        `declare ${CURSOR} no scroll cursor for select ${columns.map((c) => quoteIdentifier(c.name)).join(", ")} from ${qualified}${order}`,
      );
      return new TableSnapshot(client, table, columns, position);
    } catch (error) {
      await client.query("rollback").catch(() => undefined);
      throw error;
    }
  }

  /** The next rows of the snapshot; an empty array once every row has been read. */
  async next(batchSize: number): Promise<Row[]> {
    if (this.done) return [];
    const result = await this.client.query<Record<string, string | null>>({
      text: `fetch forward ${Math.max(1, Math.floor(batchSize))} from ${CURSOR}`,
      types: TEXT_TYPES,
    });
    if (result.rows.length === 0) this.done = true;
    return result.rows.map((raw) => this.typed(raw));
  }

  /** Ends the snapshot's transaction (it only read). */
  async close(): Promise<void> {
    await this.client.query("commit");
  }

  /** Ends the snapshot's transaction after a failure, keeping the failure as the one reported. */
  async abandon(): Promise<void> {
    await this.client.query("rollback").catch(() => undefined);
  }

  private typed(raw: Record<string, string | null>): Row {
    const row: Record<string, Value> = {};
    for (const column of this.columns) {
      const text = raw[column.name];
      if (text === null || text === undefined) {
        setColumn(row, column.name, null);
        continue;
      }
      try {
        setColumn(row, column.name, column.convert(text));
      } catch (error) {
        throw new BackfillReadError({
          table: `${this.table.schema}.${this.table.name}`,
          column: column.name,
          cause: error,
        });
      }
    }
    return row;
  }
}

/**
 * The columns pgoutput publishes, in table order: generated columns are left out, as the stream
 * leaves them out, so a backfilled row has exactly the columns a streamed row has.
 */
async function readColumns(client: pg.ClientBase, mapping: string, table: TableRef): Promise<SnapshotColumn[]> {
  const relation = qualifiedTable(table);
  const found = await client.query<{ oid: string | null }>("select to_regclass($1)::oid::text as oid", [relation]);
  const oid = found.rows[0]?.oid;
  if (!oid) throw new BackfillMappingError(mapping, `table ${table.schema}.${table.name} does not exist`);
  const result = await client.query<{ name: string; type_oid: number; type_name: string }>(
    `select a.attname as name, a.atttypid::int as type_oid, t.typname as type_name
       from pg_attribute a join pg_type t on t.oid = a.atttypid
      where a.attrelid = $1::oid and a.attnum > 0 and not a.attisdropped and a.attgenerated = ''
      order by a.attnum`,
    [oid],
  );
  return result.rows.map((c) => ({ name: c.name, convert: converterFor(c.type_oid, c.type_name) }));
}

/**
 * The columns a publication sends for a table (PostgreSQL 15 and later can limit them); null
 * when the server has no column lists or the table is not published.
 */
export async function publishedColumns(
  client: pg.ClientBase,
  publication: string,
  table: TableRef,
): Promise<string[] | null> {
  const version = await client.query<{ n: number }>("select current_setting('server_version_num')::int as n");
  if ((version.rows[0]?.n ?? 0) < 150000) return null;
  const result = await client.query<{ attnames: string[] | null }>(
    "select attnames from pg_publication_tables where pubname = $1 and schemaname = $2 and tablename = $3",
    [publication, table.schema, table.name],
  );
  return result.rows[0]?.attnames ?? null;
}
