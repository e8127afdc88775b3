// The pgoutput decoder's view of a relation (from its Relation message) and the reading of
// TupleData against it into typed values and rows. Layout: "TupleData" on
// https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html

import type { ColumnInfo, TableRef } from "../change/change.js";
import { type Row, UNCHANGED_TOAST, type Value } from "../change/value.js";
import type { BinaryReader } from "./binary-reader.js";
import { DecodeError } from "./decode-error.js";
import { setColumn } from "./row-object.js";
import { converterFor, type ValueConverter } from "./value-conversion.js";

/** What a Relation message told us about a table, prepared for decoding its rows. */
export interface RelationEntry {
  readonly id: number;
  readonly table: TableRef;
  /** "schema.table", for errors. */
  readonly label: string;
  readonly columns: readonly ColumnInfo[];
  readonly names: readonly string[];
  readonly converters: readonly ValueConverter[];
  /** Positions of the replica identity columns. */
  readonly keyIndexes: readonly number[];
  /** A column named "__proto__" cannot be set by plain assignment. */
  readonly awkwardNames: boolean;
}

export function describeRelation(id: number, table: TableRef, columns: readonly ColumnInfo[]): RelationEntry {
  const names = columns.map((c) => c.name);
  const keyIndexes: number[] = [];
  for (let i = 0; i < columns.length; i++) if (columns[i]!.isKey) keyIndexes.push(i);
  return {
    id,
    table: Object.freeze({ ...table }),
    label: `${table.schema}.${table.name}`,
    columns: Object.freeze(columns.map((c) => Object.freeze({ ...c }))),
    names,
    converters: columns.map((c) => converterFor(c.typeOid, c.typeName)),
    keyIndexes,
    awkwardNames: names.includes("__proto__"),
  };
}

// TupleData: Int16 column count, then per column Byte1 'n' (null), 'u' (unchanged TOASTed value,
// not sent), 't' (Int32 length + text) or 'b' (binary, only with the `binary` option, not used).
export function readTuple(r: BinaryReader, rel: RelationEntry, tag: number): Value[] {
  const count = r.int16();
  const { converters, names } = rel;
  if (count !== converters.length) {
    throw new DecodeError({
      plugin: "pgoutput",
      tag: String.fromCharCode(tag),
      reason: `tuple has ${count} column(s), the Relation message announced ${converters.length}`,
      context: { table: rel.label, relationId: rel.id, offset: r.offset - 2 },
    });
  }
  const values: Value[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const kind = r.uint8();
    if (kind === 0x74 /* t */) {
      const text = r.text(r.int32());
      try {
        values[i] = converters[i]!(text);
      } catch (error) {
        const context = { table: rel.label, column: names[i], offset: r.offset };
        throw new DecodeError({
          plugin: "pgoutput",
          tag: String.fromCharCode(tag),
          reason: "column value cannot be read",
          context,
          cause: error,
        });
      }
    } else if (kind === 0x6e /* n */) {
      values[i] = null;
    } else if (kind === 0x75 /* u */) {
      values[i] = UNCHANGED_TOAST;
    } else {
      throw new DecodeError({
        plugin: "pgoutput",
        tag: String.fromCharCode(tag),
        reason: `column kind '${String.fromCharCode(kind)}' is not supported (binary transfer is not negotiated)`,
        context: { table: rel.label, column: names[i], offset: r.offset - 1 },
      });
    }
  }
  return values;
}

/** All columns of a tuple, by name. */
export function rowOf(rel: RelationEntry, values: readonly Value[]): Row {
  const row: Record<string, Value> = {};
  const { names } = rel;
  if (rel.awkwardNames) {
    for (let i = 0; i < names.length; i++) setColumn(row, names[i]!, values[i] as Value);
  } else {
    for (let i = 0; i < names.length; i++) row[names[i]!] = values[i] as Value;
  }
  return row;
}

/** The replica identity columns of a tuple, by name. */
export function keyOf(rel: RelationEntry, values: readonly Value[]): Row {
  const key: Record<string, Value> = {};
  const { names, keyIndexes } = rel;
  for (let k = 0; k < keyIndexes.length; k++) {
    const i = keyIndexes[k]!;
    setColumn(key, names[i]!, values[i] as Value);
  }
  return key;
}
