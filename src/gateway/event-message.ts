// Checks an application event and writes the JSON text that pg_logical_emit_message carries to capture.
import { TOPIC, TOPIC_TEXT } from "../config/names.js";
import { InvalidEventError } from "./gateway-errors.js";

/** A JSON value as an event payload may hold it. */
export type EventValue =
  | null
  | boolean
  | number
  | string
  | readonly EventValue[]
  | { readonly [key: string]: EventValue };

/** The payload's fields become the columns a mapping's fields read (`family`, `new_date`). */
export type EventPayload = { readonly [field: string]: EventValue };

/** Per-event options; ess.send() takes the same keys in its options argument. */
export interface EventOptions {
  /** At most this many attempts per partner (below the connector's retry.maxAttempts only). */
  readonly maxAttempts?: number;
  /** The application's own correlation id, kept on the deliveries, in their logs and the audit. */
  readonly correlationId?: string;
  /** Carried into the deliveries' logs and audit rows, and to partners as a header where the adapter has headers. */
  readonly traceId?: string;
}

export interface ApplicationEvent {
  /** Mappings with `source: { topic }` take events of their topic. */
  readonly topic: string;
  readonly payload: EventPayload;
  readonly options?: EventOptions;
}

/** Correlation and trace ids are short printable ASCII, like the ids ESS makes itself. */
const OPTION_TEXT = /^[\x21-\x7e]{1,200}$/;

/** Deeper than any sensible payload; stops a self-referencing object early with a clear error. */
const MAX_DEPTH = 64;

/**
 * The message content: { id, topic, payload, options? } (the format ess.send() writes too, see
 * README "Application events"). Capture stores it whole as the event's feed row, which is how a
 * receipt id finds the deliveries made from its event.
 */
export function eventMessage(event: ApplicationEvent, id: string): string {
  if (event === null || typeof event !== "object")
    throw new InvalidEventError({ path: "event", reason: "expected { topic, payload }" });
  const { topic, payload } = event as { topic?: unknown; payload?: unknown };
  if (typeof topic !== "string" || !TOPIC.test(topic)) {
    throw new InvalidEventError({ path: "topic", reason: `expected ${TOPIC_TEXT}, got ${describe(topic)}` });
  }
  if (!isPlainObject(payload)) {
    throw new InvalidEventError({
      path: "payload",
      reason: `expected a JSON object of fields, got ${describe(payload)}`,
    });
  }
  checkValue(payload, "payload", 0);
  const options = checkOptions((event as { options?: unknown }).options);
  return JSON.stringify(options ? { id, topic, payload, options } : { id, topic, payload });
}

function checkOptions(options: unknown): EventOptions | undefined {
  if (options === undefined) return undefined;
  if (!isPlainObject(options))
    throw new InvalidEventError({ path: "options", reason: `expected an object, got ${describe(options)}` });
  const known = ["maxAttempts", "correlationId", "traceId"];
  for (const key of Object.keys(options)) {
    if (!known.includes(key))
      throw new InvalidEventError({ path: `options.${key}`, reason: `unknown option (expected ${known.join(", ")})` });
  }
  const { maxAttempts, correlationId, traceId } = options as Record<string, unknown>;
  if (
    maxAttempts !== undefined &&
    !(Number.isInteger(maxAttempts) && (maxAttempts as number) >= 1 && (maxAttempts as number) <= 1000)
  ) {
    throw new InvalidEventError({
      path: "options.maxAttempts",
      reason: `expected a whole number from 1 to 1000, got ${describe(maxAttempts)}`,
    });
  }
  for (const [key, value] of [
    ["correlationId", correlationId],
    ["traceId", traceId],
  ] as const) {
    if (value !== undefined && (typeof value !== "string" || !OPTION_TEXT.test(value))) {
      throw new InvalidEventError({
        path: `options.${key}`,
        reason: `expected printable text of at most 200 characters, got ${describe(value)}`,
      });
    }
  }
  const result: { -readonly [K in keyof EventOptions]: EventOptions[K] } = {};
  if (maxAttempts !== undefined) result.maxAttempts = maxAttempts as number;
  if (correlationId !== undefined) result.correlationId = correlationId as string;
  if (traceId !== undefined) result.traceId = traceId as string;
  return Object.keys(result).length > 0 ? result : undefined;
}

/**
 * JSON.stringify would silently drop undefined and functions and turn a Date into text: an
 * event must carry exactly what the caller wrote, so anything JSON cannot hold as is is refused.
 */
function checkValue(value: unknown, path: string, depth: number): void {
  if (depth > MAX_DEPTH)
    throw new InvalidEventError({ path, reason: `nested deeper than ${MAX_DEPTH} levels (a cycle?)` });
  if (value === null || typeof value === "string" || typeof value === "boolean") return;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new InvalidEventError({ path, reason: `${value} has no JSON form` });
    return;
  }
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) checkValue(item, `${path}[${i}]`, depth + 1);
    return;
  }
  if (isPlainObject(value)) {
    for (const [key, item] of Object.entries(value)) checkValue(item, `${path}.${key}`, depth + 1);
    return;
  }
  const hint = value instanceof Date ? " (send dates as ISO text, e.g. 2024-05-04)" : "";
  throw new InvalidEventError({ path, reason: `${describe(value)} is not a JSON value${hint}` });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (value instanceof Date) return "a Date";
  if (typeof value === "string") return JSON.stringify(value.slice(0, 80));
  if (typeof value === "object") return `a ${value.constructor?.name ?? "object"}`;
  return typeof value === "undefined" ? "undefined" : `a ${typeof value}`;
}
