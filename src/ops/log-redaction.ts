// The one place every log line passes before it is written: no secret, no row data from a database error.
import { redactUrl } from "../config/secrets.js";
import { messageWithoutValues } from "../sql/pg-error.js";

/** Fields of a PostgreSQL error that quote row data (the failing value, the key, the statement's context). */
const ROW_DATA_FIELDS = new Set(["detail", "where", "hint", "internalQuery", "query", "parameters", "values"]);
/** Fields an error keeps in a log line; everything else an error object carries is dropped. */
const ERROR_FIELDS = [
  "code",
  "severity",
  "schema",
  "table",
  "column",
  "constraint",
  "dataType",
  "routine",
  "failure",
  "reason",
  "kind",
  "status",
  "errno",
  "syscall",
] as const;
const MAX_DEPTH = 8;
const MAX_TEXT = 4096;

/**
 * A value as it may be logged: errors as their type, message and classification (never the
 * database's detail, where or hint, which quote the row), nested objects walked to a bounded
 * depth, long texts cut. Secrets are removed from the whole line by `redactLogLine`.
 */
export function loggableValue(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return value.length > MAX_TEXT ? `${value.slice(0, MAX_TEXT)}…` : value;
  if (value === null || typeof value !== "object") return value;
  if (depth >= MAX_DEPTH) return "[nested too deep]";
  if (value instanceof Error) return loggableError(value, depth);
  if (Buffer.isBuffer(value)) return `[${value.length} bytes]`;
  if (value instanceof Date) return value;
  if (Array.isArray(value)) return value.slice(0, 100).map((item) => loggableValue(item, depth + 1));
  // Only plain data is walked: a socket, client or stream (an error's cause may hold one) is
  // named, never traversed, so one log call stays cheap and cannot dump a connection's state.
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return `[${value.constructor?.name ?? "object"}]`;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (ROW_DATA_FIELDS.has(key) && isDatabaseError(value)) continue;
    out[key] = loggableValue(item, depth + 1);
  }
  return out;
}

/** The merging object of a log call (pino's formatters.log). */
export function loggableObject(object: Record<string, unknown>): Record<string, unknown> {
  return loggableValue(object) as Record<string, unknown>;
}

/** The serialized line: registered secrets and URL credentials become "***". */
export function redactLogLine(line: string): string {
  return redactUrl(line);
}

/** An error's message as a log line's text: without the value a database error quotes. */
export function loggableMessage(error: Error): string {
  const message = isDatabaseError(error) ? messageWithoutValues(error.message) : error.message;
  return message.length > MAX_TEXT ? `${message.slice(0, MAX_TEXT)}…` : message;
}

function loggableError(error: Error, depth: number): Record<string, unknown> {
  const record = error as unknown as Record<string, unknown>;
  const message = isDatabaseError(record) ? messageWithoutValues(error.message) : error.message;
  const out: Record<string, unknown> = { type: error.name, message: loggableValue(message, depth + 1) };
  for (const field of ERROR_FIELDS) {
    const value = record[field];
    if (value !== undefined && (typeof value !== "object" || value === null)) out[field] = value;
  }
  if (typeof error.stack === "string") {
    // The stack's first line repeats the message; only the frames are kept after the cleaned one.
    const frames = error.stack.split("\n").filter((line) => /^\s+at /.test(line));
    out.stack = [`${error.name}: ${message}`, ...frames].join("\n");
  }
  if (error.cause !== undefined) out.cause = loggableValue(error.cause, depth + 1);
  return out;
}

/** node-postgres' DatabaseError and anything shaped like it: a SQLSTATE code and a severity. */
function isDatabaseError(value: object): boolean {
  const record = value as Record<string, unknown>;
  return typeof record.code === "string" && /^[0-9A-Z]{5}$/.test(record.code) && typeof record.severity === "string";
}
