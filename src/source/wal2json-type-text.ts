// Recovers pg_type.typname and the type modifier from the type text wal2json prints for a column
// (format_type output such as 'character varying(20)', 'interval day to second(3)' or
// '"My S"."Odd Type"[]'), so its column descriptions match pgoutput's Relation messages.
import { builtinType, PgTypeOid } from "./pg-type-oids.js";

export interface ColumnType {
  readonly typeName: string;
  readonly typeMod: number;
}

// VARHDRSZ: character and numeric modifiers count the varlena header.
const VARHDRSZ = 4;

// Interval range bits (datetime.h: MONTH 1, YEAR 2, DAY 3, HOUR 10, MINUTE 11, SECOND 12).
const Y = 1 << 2;
const MO = 1 << 1;
const D = 1 << 3;
const H = 1 << 10;
const MI = 1 << 11;
const S = 1 << 12;
const INTERVAL_RANGES: Readonly<Record<string, number>> = {
  year: Y,
  month: MO,
  day: D,
  hour: H,
  minute: MI,
  second: S,
  "year to month": Y | MO,
  "day to hour": D | H,
  "day to minute": D | H | MI,
  "day to second": D | H | MI | S,
  "hour to minute": H | MI,
  "hour to second": H | MI | S,
  "minute to second": MI | S,
};
const INTERVAL_FULL_RANGE = 0x7fff;
const INTERVAL_FULL_PRECISION = 0xffff;

/** typname and typmod for a column of type `typeOid` that wal2json described as `text`. */
export function columnTypeFromText(typeOid: number, text: string | undefined): ColumnType {
  const builtin = builtinType(typeOid);
  if (builtin !== undefined) {
    const base = builtin.elementOid === 0 ? typeOid : builtin.elementOid;
    return { typeName: builtin.name, typeMod: text === undefined ? -1 : builtinTypeMod(base, text) };
  }
  if (text === undefined) return { typeName: String(typeOid), typeMod: -1 };
  return { typeName: userTypeName(text), typeMod: -1 };
}

function builtinTypeMod(oid: number, text: string): number {
  const args = parenthesised(text);
  switch (oid) {
    case PgTypeOid.varchar:
    case PgTypeOid.bpchar:
      return args ? Number(args[0]) + VARHDRSZ : -1;
    case PgTypeOid.numeric:
      return args ? ((Number(args[0]) << 16) | Number(args[1] ?? 0)) + VARHDRSZ : -1;
    case PgTypeOid.bit:
    case PgTypeOid.varbit:
    case PgTypeOid.timestamp:
    case PgTypeOid.timestamptz:
    case PgTypeOid.time:
    case PgTypeOid.timetz:
      return args ? Number(args[0]) : -1;
    case PgTypeOid.interval: {
      const fields = /^interval ([a-z ]+?)(?:\(|\[|$)/.exec(text)?.[1];
      const range = fields === undefined ? undefined : INTERVAL_RANGES[fields];
      if (range === undefined && !args) return -1;
      const precision = args ? Number(args[0]) : INTERVAL_FULL_PRECISION;
      return (((range ?? INTERVAL_FULL_RANGE) & 0x7fff) << 16) | (precision & 0xffff);
    }
    default:
      return -1;
  }
}

function parenthesised(text: string): string[] | undefined {
  const open = text.indexOf("(");
  if (open < 0) return undefined;
  const close = text.indexOf(")", open);
  if (close < 0) return undefined;
  return text.slice(open + 1, close).split(",");
}

/**
 * 'mood' -> 'mood'; 'public.mood[]' -> '_mood'; '"My S"."Odd Type"' -> 'Odd Type'. The schema
 * is dropped (ColumnInfo carries the bare typname, as pgoutput's Type message does); an array
 * type is named as PostgreSQL names it, '_' + element name.
 */
export function userTypeName(text: string): string {
  const isArray = text.endsWith("[]");
  const chain = isArray ? text.slice(0, -2) : text;
  const parts: string[] = [];
  let i = 0;
  while (i < chain.length) {
    if (chain.charCodeAt(i) === 0x22) {
      let name = "";
      let j = i + 1;
      while (j < chain.length) {
        if (chain.charCodeAt(j) === 0x22) {
          if (chain.charCodeAt(j + 1) === 0x22) {
            name += '"';
            j += 2;
            continue;
          }
          break;
        }
        name += chain[j];
        j += 1;
      }
      parts.push(name);
      i = j + 1;
    } else {
      const dot = chain.indexOf(".", i);
      const end = dot < 0 ? chain.length : dot;
      parts.push(chain.slice(i, end));
      i = end;
    }
    if (chain.charCodeAt(i) === 0x2e) i += 1;
  }
  const name = parts[parts.length - 1] ?? chain;
  return isArray ? `_${name}` : name;
}
