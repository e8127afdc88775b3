// The ledger's JSON form of typed values: lossless text for int8, numeric, bytea and time values.
import { PgDate, PgJson, PgTimestamp, PgTimestampTz, type Row, UnchangedToast, type Value } from "../source/value.js";

/** Appends the JSON text of one value; hand-written because JSON.stringify cannot take bigint or Buffer. */
export function valueToJson(value: Value): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
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
  if (value instanceof PgJson) return JSON.stringify(value.value);
  if (value instanceof UnchangedToast) return '{"$toast":"unchanged"}';
  if (Array.isArray(value)) return `[${value.map(valueToJson).join(",")}]`;
  return JSON.stringify(String(value));
}

export function rowToJson(row: Row | null): string {
  if (row === null) return "null";
  let out = "{";
  let first = true;
  for (const key in row) {
    out += `${first ? "" : ","}${JSON.stringify(key)}:${valueToJson(row[key] as Value)}`;
    first = false;
  }
  return `${out}}`;
}
