// The canonical text form of a column value (PostgreSQL's own text form where one exists), for formatters, filters and keys.
import { PgDate, PgJson, PgTimestamp, PgTimestampTz, UnchangedToast, type Value } from "../change/value.js";

/** Raw bytes produced by a binary picture (COMP-3, COMP): spliced into the record, never re-encoded. */
export class RawBytes {
  constructor(readonly bytes: Buffer) {}
}

/** What flows between formatters: a column value, text, or raw bytes from a binary picture. */
export type Cell = Value | RawBytes;

const ARRAY_ELEMENT_NEEDS_QUOTES = /[{},"\\\s]/;

function arrayElementText(element: Value): string {
  if (element === null) return "NULL";
  if (Array.isArray(element)) return arrayText(element);
  const text = valueText(element);
  if (text === "" || text.toUpperCase() === "NULL" || ARRAY_ELEMENT_NEEDS_QUOTES.test(text)) {
    return `"${text.replace(/["\\]/g, (c) => `\\${c}`)}"`;
  }
  return text;
}

function arrayText(values: readonly Value[]): string {
  return `{${values.map(arrayElementText).join(",")}}`;
}

/**
 * Text of a non-NULL value: strings as they are, numbers as JavaScript prints them (which is
 * also PostgreSQL's float text), booleans as true/false, bytea as \x hex, arrays as array
 * literals, json as compact JSON. NULL becomes the empty string.
 */
export function valueText(value: Cell): string {
  if (typeof value === "string") return value;
  if (value === null) return "";
  if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean") return String(value);
  if (value instanceof PgTimestampTz || value instanceof PgTimestamp || value instanceof PgDate) return value.text;
  if (Buffer.isBuffer(value)) return `\\x${value.toString("hex")}`;
  if (value instanceof RawBytes) return `\\x${value.bytes.toString("hex")}`;
  if (value instanceof PgJson) return JSON.stringify(value.value);
  if (value instanceof UnchangedToast) return "";
  if (Array.isArray(value)) return arrayText(value);
  return String(value);
}

const DESCRIPTION_LIMIT = 64;

/** How an error names a value: quoted and shortened, or withheld entirely for a PII column. */
export function describeValue(value: Cell, pii: boolean): string {
  if (value === null) return "NULL";
  if (value instanceof UnchangedToast) return "unchanged TOAST value (not sent by the server)";
  if (pii) return "withheld (PII column)";
  if (value instanceof RawBytes) return `${value.bytes.length} bytes`;
  if (Buffer.isBuffer(value)) return `${value.length} bytes`;
  const text = valueText(value);
  const chars = [...text];
  if (chars.length <= DESCRIPTION_LIMIT) return JSON.stringify(text);
  return `${JSON.stringify(chars.slice(0, DESCRIPTION_LIMIT).join(""))}… (${chars.length} characters)`;
}
