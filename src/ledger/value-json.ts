// The ledger's JSON form of typed values: lossless text for int8, numeric, bytea and time values.
import { PgDate, PgJson, PgTimestamp, PgTimestampTz, type Row, UnchangedToast, type Value } from "../change/value.js";
import { storableJson, storableText } from "./storable-text.js";

/** Text that JSON can hold between quotes as it is: no quote, backslash, control or lone surrogate. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly the characters JSON must escape.
const PLAIN_JSON_TEXT = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;

/** Appends the JSON text of one value; hand-written because JSON.stringify cannot take bigint or Buffer. */
export function valueToJson(value: Value): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
      // Most column text needs no escaping; JSON.stringify is the slow path for what does.
      // (NUL and lone surrogates are made storable: the feed is json, read with ->> by its indexes.)
      return PLAIN_JSON_TEXT.test(value) ? `"${value}"` : JSON.stringify(storableText(value));
    case "number":
      // JSON has no NaN/Infinity: keep PostgreSQL's spelling as text.
      return Number.isFinite(value) ? String(value) : JSON.stringify(String(value));
    case "bigint":
      return `"${value}"`;
    case "boolean":
      return value ? "true" : "false";
  }
  if (Buffer.isBuffer(value)) return `"\\\\x${value.toString("hex")}"`;
  if (value instanceof PgDate || value instanceof PgTimestamp || value instanceof PgTimestampTz) {
    return JSON.stringify(value.text);
  }
  if (value instanceof PgJson) return JSON.stringify(storableJson(value.value));
  if (value instanceof UnchangedToast) return '{"$toast":"unchanged"}';
  if (Array.isArray(value)) return `[${value.map(valueToJson).join(",")}]`;
  return JSON.stringify(String(value));
}

/** Column names repeat on every row: their JSON form (`"name":`) is made once. */
const keyPrefixes = new Map<string, string>();

function keyPrefix(key: string): string {
  let prefix = keyPrefixes.get(key);
  if (prefix === undefined) {
    prefix = `${JSON.stringify(key)}:`;
    // Bounded: column names of the mapped tables, not data.
    if (keyPrefixes.size < 10_000) keyPrefixes.set(key, prefix);
  }
  return prefix;
}

/**
 * Built with join, not +=: a string built by += is a tree of its pieces until it is first read
 * whole, and captured rows wait in memory for their flush, so each would keep dozens of objects
 * alive (most of capture's garbage-collection time) where join makes one flat string.
 */
export function rowToJson(row: Row | null): string {
  if (row === null) return "null";
  const parts: string[] = [];
  for (const key in row) parts.push(keyPrefix(key) + valueToJson(row[key] as Value));
  return `{${parts.join(",")}}`;
}
