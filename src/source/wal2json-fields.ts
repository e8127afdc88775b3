// Typed access to the fields of one parsed wal2json line, failing with a DecodeError that says
// which start option would have provided a missing field.

import { parseLsn } from "../change/lsn.js";
import { type DecodeContext, DecodeError } from "./decode-error.js";
import type { JsonTextTree } from "./json-text.js";
import { timestamptzToDate } from "./pg-datetime-text.js";

export type JsonObject = { [key: string]: JsonTextTree };

export function isObject(value: JsonTextTree | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function namesOf(list: JsonTextTree | undefined, action: string): string[] {
  if (list === undefined) throw missing(action, "pk", { reason: "start with include-pk" });
  if (!Array.isArray(list)) throw missing(action, "pk");
  const names: string[] = [];
  for (const entry of list) {
    if (!isObject(entry) || typeof entry.name !== "string") throw missing(action, "pk[].name");
    names.push(entry.name);
  }
  return names;
}

export function stringField(doc: JsonObject, field: string, action: string): string {
  const value = doc[field];
  if (typeof value !== "string") throw missing(action, field);
  return value;
}

export function numberField(doc: JsonObject, field: string, action: string): number {
  const value = doc[field];
  if (typeof value !== "number") throw missing(action, field, { reason: "start with include-xids" });
  return value;
}

export function lsnField(doc: JsonObject, field: string, action: string): bigint {
  const value = doc[field];
  if (typeof value !== "string") throw missing(action, field, { reason: "start with include-lsn" });
  try {
    return parseLsn(value);
  } catch (error) {
    throw new DecodeError({
      plugin: "wal2json",
      tag: action,
      reason: `"${field}" is not an LSN`,
      context: {},
      cause: error,
    });
  }
}

export function timeField(doc: JsonObject, action: string): Date {
  const value = doc.timestamp;
  if (typeof value !== "string") throw missing(action, "timestamp", { reason: "start with include-timestamp" });
  try {
    return timestamptzToDate(value);
  } catch (error) {
    throw new DecodeError({
      plugin: "wal2json",
      tag: action,
      reason: '"timestamp" is not a timestamp',
      context: {},
      cause: error,
    });
  }
}

export function missing(
  action: string,
  field: string,
  extra: DecodeContext & { readonly reason?: string } = {},
): DecodeError {
  const { reason, ...context } = extra;
  return new DecodeError({
    plugin: "wal2json",
    tag: action,
    reason: `missing or malformed "${field}"${reason ? ` (${reason})` : ""}`,
    context,
  });
}
