// Turns a column's PostgreSQL text (as printed under REPLICATION_SESSION_SETTINGS) into a typed
// Value, choosing the conversion once per column type so that decoding a row is a table lookup.

import { PgDate, PgJson, PgTimestamp, PgTimestampTz, type Value } from "../change/value.js";
import { ValueConversionError } from "./decode-error.js";
import { JsonSyntaxError, parseJsonDocument } from "./json-text.js";
import { parseArrayText, type TypeLabel } from "./pg-array-text.js";
import { timestampToIso, timestamptzToUtcIso } from "./pg-datetime-text.js";
import { builtinType, PgTypeOid } from "./pg-type-oids.js";

export type ValueConverter = (text: string) => Value;

const asText: ValueConverter = (text) => text;

const toInteger = (label: TypeLabel): ValueConverter => {
  return (text) => {
    const n = Number(text);
    if (!Number.isInteger(n) || text.length === 0)
      throw new ValueConversionError({ typeName: label.name, typeOid: label.oid, reason: "not an integer" });
    return n;
  };
};

const toBigint: ValueConverter = (text) => {
  try {
    return BigInt(text);
  } catch {
    throw new ValueConversionError({ typeName: "int8", typeOid: PgTypeOid.int8, reason: "not an integer" });
  }
};

// float4/float8 print 'NaN', 'Infinity' and '-Infinity', which Number() reads as such.
const toFloat = (label: TypeLabel): ValueConverter => {
  return (text) => {
    const n = Number(text);
    if ((Number.isNaN(n) && text !== "NaN") || text.length === 0) {
      throw new ValueConversionError({
        typeName: label.name,
        typeOid: label.oid,
        reason: "not a floating-point number",
      });
    }
    return n;
  };
};

const toBoolean: ValueConverter = (text) => {
  if (text === "t") return true;
  if (text === "f") return false;
  throw new ValueConversionError({ typeName: "bool", typeOid: PgTypeOid.bool, reason: "expected 't' or 'f'" });
};

const toDate: ValueConverter = (text) => new PgDate(text);
const toTimestamp: ValueConverter = (text) => new PgTimestamp(timestampToIso(text));
const toTimestampTz: ValueConverter = (text) => new PgTimestampTz(timestamptzToUtcIso(text));

const toJson = (label: TypeLabel): ValueConverter => {
  return (text) => {
    try {
      return new PgJson(parseJsonDocument(text));
    } catch (error) {
      if (error instanceof JsonSyntaxError)
        throw new ValueConversionError({
          typeName: label.name,
          typeOid: label.oid,
          reason: error.reason,
          position: error.position,
        });
      throw error;
    }
  };
};

/** bytea in hex output ('\x0aff') or, should bytea_output be 'escape', the escape format. */
export const byteaFromText: ValueConverter = (text) => {
  if (text.charCodeAt(0) === 0x5c && text.charCodeAt(1) === 0x78) return byteaFromHex(text.slice(2));
  return byteaFromEscape(text);
};

/** Hex digits without the '\x' prefix (how wal2json prints bytea). */
export function byteaFromHex(hex: string): Buffer {
  const buf = Buffer.from(hex, "hex");
  // Buffer.from stops silently at the first non-hex character.
  if (buf.length * 2 !== hex.length)
    throw new ValueConversionError({ typeName: "bytea", typeOid: PgTypeOid.bytea, reason: "invalid hex digits" });
  return buf;
}

function byteaFromEscape(text: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x5c) {
      out.push(c);
      continue;
    }
    if (text.charCodeAt(i + 1) === 0x5c) {
      out.push(0x5c);
      i += 1;
      continue;
    }
    const octal = text.slice(i + 1, i + 4);
    if (!/^[0-3][0-7]{2}$/.test(octal))
      throw new ValueConversionError({
        typeName: "bytea",
        typeOid: PgTypeOid.bytea,
        reason: "bad escape",
        position: i,
      });
    out.push(Number.parseInt(octal, 8));
    i += 3;
  }
  return Buffer.from(out);
}

const cache = new Map<number, ValueConverter>();

/**
 * The conversion for a column of this type. Built-in types are chosen by OID; a type ESS has no
 * dedicated conversion for (enums, domains, geometric, network, ranges…) keeps its text. A
 * user-defined array type is recognised by its name ('_mood') and yields an array of texts.
 */
export function converterFor(typeOid: number, typeName: string): ValueConverter {
  const known = cache.get(typeOid);
  if (known) return known;
  const builtin = builtinType(typeOid);
  if (builtin === undefined) {
    // User types have database-specific OIDs; the name decides, and is not cached by OID.
    if (typeName.startsWith("_")) return arrayConverter({ name: typeName, oid: typeOid }, asText, ",");
    return asText;
  }
  const converter = builtinConverter(typeOid, builtin.name, builtin.elementOid);
  cache.set(typeOid, converter);
  return converter;
}

/** Converts one value; decoders use converterFor once per column instead. */
export function convertText(text: string, typeOid: number, typeName: string): Value {
  return converterFor(typeOid, typeName)(text);
}

function builtinConverter(oid: number, name: string, elementOid: number): ValueConverter {
  const label = { name, oid };
  if (elementOid !== 0) {
    const element = builtinType(elementOid);
    const elementConverter = converterFor(elementOid, element?.name ?? String(elementOid));
    return arrayConverter(label, elementConverter, elementOid === PgTypeOid.box ? ";" : ",");
  }
  switch (oid) {
    case PgTypeOid.int2:
    case PgTypeOid.int4:
    case PgTypeOid.oid:
      return toInteger(label);
    case PgTypeOid.int8:
      return toBigint;
    case PgTypeOid.float4:
    case PgTypeOid.float8:
      return toFloat(label);
    case PgTypeOid.bool:
      return toBoolean;
    case PgTypeOid.bytea:
      return byteaFromText;
    case PgTypeOid.date:
      return toDate;
    case PgTypeOid.timestamp:
      return toTimestamp;
    case PgTypeOid.timestamptz:
      return toTimestampTz;
    case PgTypeOid.json:
    case PgTypeOid.jsonb:
      return toJson(label);
    default:
      // numeric (exact decimal text, or 'NaN'/'Infinity'), text types, uuid, time, timetz, interval…
      return asText;
  }
}

function arrayConverter(label: TypeLabel, element: ValueConverter, delimiter: string): ValueConverter {
  return (text) => parseArrayText(text, delimiter, element, label);
}
