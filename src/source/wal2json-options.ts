// The START_REPLICATION options the wal2json decoder relies on, and the table filter that stands
// in for a publication.
import type { TableRef } from "../change/change.js";

/**
 * START_REPLICATION options for wal2json (2.5 or later) that this decoder relies on: format 2
 * (one action per payload), Begin/Commit with xid, commit timestamp and the commit and end LSNs,
 * type OIDs for the conversion, type texts for typname/typmod, and the primary key for inserts.
 * wal2json 2.5 does not know `numeric-data-types-as-string`; the decoder reads numbers from the
 * JSON text exactly, and also accepts them quoted should a later version be asked to.
 */
export const WAL2JSON_START_OPTIONS: Readonly<Record<string, string>> = Object.freeze({
  "format-version": "2",
  "include-transaction": "true",
  "include-xids": "true",
  "include-timestamp": "true",
  "include-lsn": "true",
  "include-schemas": "true",
  "include-types": "true",
  "include-typmod": "true",
  "include-type-oids": "true",
  "include-pk": "true",
  "include-domain-data-type": "false",
  "pretty-print": "false",
});

/**
 * WAL2JSON_START_OPTIONS restricted to `tables`. wal2json knows no publications: without
 * `add-tables` it decodes every table of the database, ESS's own ledger included.
 */
export function wal2jsonStartOptions(tables?: readonly TableRef[]): Record<string, string> {
  const options: Record<string, string> = { ...WAL2JSON_START_OPTIONS };
  if (tables !== undefined) {
    options["add-tables"] = tables.map((t) => `${escapeTableName(t.schema)}.${escapeTableName(t.name)}`).join(",");
  }
  return options;
}

// wal2json splits add-tables on ',' and '.', treats whitespace as a separator and '*' as a
// wildcard; a backslash makes any of them literal.
function escapeTableName(name: string): string {
  return name.replace(/[\\,.*\s]/g, (c) => `\\${c}`);
}
