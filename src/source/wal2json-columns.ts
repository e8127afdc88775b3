// The column lists of wal2json rows: reading "columns"/"identity" into shapes and typed values,
// remembering each table's last complete column list, and putting UNCHANGED_TOAST where an
// update left a TOASTed column out (wal2json omits it, where pgoutput sends a 'u' marker).
import type { ColumnInfo } from "../change/change.js";
import { type Row, UNCHANGED_TOAST, type Value } from "../change/value.js";
import { DecodeError, ValueConversionError } from "./decode-error.js";
import type { JsonTextTree } from "./json-text.js";
import { builtinType, PgTypeOid } from "./pg-type-oids.js";
import { setColumn } from "./row-object.js";
import { byteaFromHex, converterFor, type ValueConverter } from "./value-conversion.js";
import { isObject, type JsonObject, missing } from "./wal2json-fields.js";
import { columnTypeFromText } from "./wal2json-type-text.js";

/** A column as wal2json described it, with its conversion. */
export interface ColumnShape {
  readonly name: string;
  readonly typeOid: number;
  readonly typeText: string | undefined;
  readonly typeName: string;
  readonly typeMod: number;
  readonly converter: ValueConverter;
  /** Could hold a TOAST pointer, so an update may leave it out. */
  readonly varlena: boolean;
}

/** The last complete column list seen for a table, to recognise columns an update left out. */
export interface KnownTable {
  readonly columns: readonly ColumnShape[];
  /** ColumnInfo lists built for this shape, by key-column signature. */
  readonly infos: Map<string, readonly ColumnInfo[]>;
}

export interface ParsedColumns {
  readonly shapes: ColumnShape[];
  readonly values: Value[];
}

/** Reads a "columns" or "identity" array: [{"name","type","typeoid","value"}…]. */
export function readColumns(
  doc: JsonObject,
  field: "columns" | "identity",
  action: string,
  label: string,
  known: KnownTable | undefined,
): ParsedColumns {
  const list = doc[field];
  // A table without a replica identity gets no "identity" (wal2json only warns in the server log).
  if (list === undefined && field === "identity") return { shapes: [], values: [] };
  if (!Array.isArray(list)) throw missing(action, field, { table: label });
  const shapes: ColumnShape[] = new Array(list.length);
  const values: Value[] = new Array(list.length);
  for (let i = 0; i < list.length; i++) {
    const entry = list[i];
    if (!isObject(entry))
      throw new DecodeError({
        plugin: "wal2json",
        tag: action,
        reason: `${field}[${i}] is not an object`,
        context: { table: label },
      });
    const name = entry.name;
    const oid = entry.typeoid;
    if (typeof name !== "string" || (typeof oid !== "number" && typeof oid !== "string")) {
      throw new DecodeError({
        plugin: "wal2json",
        tag: action,
        reason: `${field}[${i}] lacks name or typeoid (start with include-type-oids)`,
        context: {
          table: label,
        },
      });
    }
    const typeText = typeof entry.type === "string" ? entry.type : undefined;
    const shape = shapeFor(knownColumn(known, i, name), name, Number(oid), typeText);
    shapes[i] = shape;
    try {
      values[i] = convertJson(entry.value ?? null, shape);
    } catch (error) {
      const context = { table: label, column: name };
      throw new DecodeError({
        plugin: "wal2json",
        tag: action,
        reason: "column value cannot be read",
        context,
        cause: error,
      });
    }
  }
  return { shapes, values };
}

function knownColumn(known: KnownTable | undefined, i: number, name: string): ColumnShape | undefined {
  if (known === undefined) return undefined;
  const { columns } = known;
  if (columns[i]?.name === name) return columns[i];
  for (const column of columns) if (column.name === name) return column;
  return undefined;
}

/** Reuses the known shape when the column is unchanged (the common case), so rows share ColumnInfo. */
function shapeFor(
  known: ColumnShape | undefined,
  name: string,
  typeOid: number,
  typeText: string | undefined,
): ColumnShape {
  if (known !== undefined && known.name === name && known.typeOid === typeOid && known.typeText === typeText)
    return known;
  const { typeName, typeMod } = columnTypeFromText(typeOid, typeText);
  return {
    name,
    typeOid,
    typeText,
    typeName,
    typeMod,
    converter: converterFor(typeOid, typeName),
    varlena: builtinType(typeOid)?.varlena ?? true,
  };
}

// wal2json prints int2/4/8, oid, float4/8 and numeric as bare JSON numbers (small integers read
// back as numbers, every other number as its exact text), bool as true/false, bytea as hex
// without '\x', and everything else as the output function's text in a string.
function convertJson(raw: JsonTextTree, shape: ColumnShape): Value {
  if (raw === null) return null;
  if (typeof raw === "string") return shape.typeOid === PgTypeOid.bytea ? byteaFromHex(raw) : shape.converter(raw);
  if (typeof raw === "number") {
    const oid = shape.typeOid;
    if (oid === PgTypeOid.int4 || oid === PgTypeOid.int2 || oid === PgTypeOid.oid) return raw;
    return shape.converter(String(raw));
  }
  if (typeof raw === "boolean") return raw;
  throw new ValueConversionError({
    typeName: shape.typeName,
    typeOid: shape.typeOid,
    reason: `unexpected JSON ${Array.isArray(raw) ? "array" : "object"}`,
  });
}

/** Puts UNCHANGED_TOAST where an update left out a column the table still has. */
export function withUnchangedToast(known: KnownTable, row: ParsedColumns): ParsedColumns {
  const { shapes } = row;
  if (sameShapes(known.columns, shapes)) return row;
  const index = new Map<string, number>();
  for (let i = 0; i < shapes.length; i++) index.set(shapes[i]!.name, i);
  const mergedShapes: ColumnShape[] = [];
  const mergedValues: Value[] = [];
  for (const column of known.columns) {
    const at = index.get(column.name);
    if (at !== undefined) {
      mergedShapes.push(shapes[at]!);
      mergedValues.push(row.values[at] as Value);
      index.delete(column.name);
    } else if (column.varlena) {
      mergedShapes.push(column);
      mergedValues.push(UNCHANGED_TOAST);
    }
    // A fixed-length column cannot be TOASTed: it was dropped.
  }
  // Columns added since (ALTER TABLE … ADD COLUMN), in the order wal2json printed them.
  for (const [, at] of index) {
    mergedShapes.push(shapes[at]!);
    mergedValues.push(row.values[at] as Value);
  }
  return { shapes: mergedShapes, values: mergedValues };
}

export function sameShapes(a: readonly ColumnShape[], b: readonly ColumnShape[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function infosFor(known: KnownTable, keyNames: readonly string[]): readonly ColumnInfo[] {
  const signature = keyNames.join("\u0000");
  let infos = known.infos.get(signature);
  if (infos === undefined) {
    infos = toInfos(known.columns, keyNames);
    known.infos.set(signature, infos);
  }
  return infos;
}

export function toInfos(shapes: readonly ColumnShape[], keyNames: readonly string[]): readonly ColumnInfo[] {
  return Object.freeze(
    shapes.map((s) =>
      Object.freeze({
        name: s.name,
        typeOid: s.typeOid,
        typeName: s.typeName,
        typeMod: s.typeMod,
        isKey: keyNames.includes(s.name),
      }),
    ),
  );
}

export function rowOf(shapes: readonly ColumnShape[], values: readonly Value[]): Row {
  const row: Record<string, Value> = {};
  for (let i = 0; i < shapes.length; i++) setColumn(row, shapes[i]!.name, values[i] as Value);
  return row;
}

export function pick(row: Row, names: readonly string[]): Row {
  const key: Record<string, Value> = {};
  for (const name of names) {
    if (Object.hasOwn(row, name)) setColumn(key, name, row[name] as Value);
  }
  return key;
}

export function namesOfShapes(shapes: readonly ColumnShape[]): string[] {
  const names: string[] = new Array(shapes.length);
  for (let i = 0; i < shapes.length; i++) names[i] = shapes[i]!.name;
  return names;
}

/** Whether the table's known column list has every one of `names`. */
export function knowsAll(known: KnownTable, names: readonly string[]): boolean {
  for (const name of names) if (knownColumn(known, -1, name) === undefined) return false;
  return true;
}
