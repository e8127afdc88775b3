// Looks up tables' primary key columns, for mappings that do not name their key.
import type pg from "pg";
import type { TableRef } from "../change/change.js";

export async function primaryKeyColumns(client: pg.ClientBase | pg.Pool, table: TableRef): Promise<string[]> {
  const result = await client.query<{ attname: string }>(
    `select a.attname
       from pg_index i
       join pg_class c on c.oid = i.indrelid
       join pg_namespace n on n.oid = c.relnamespace
       join lateral unnest(i.indkey) with ordinality as k(attnum, position) on true
       join pg_attribute a on a.attrelid = c.oid and a.attnum = k.attnum
      where i.indisprimary and n.nspname = $1 and c.relname = $2
      order by k.position`,
    [table.schema, table.name],
  );
  return result.rows.map((r) => r.attname);
}
