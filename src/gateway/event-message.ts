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

export interface ApplicationEvent {
  /** Mappings with `source: { topic }` take events of their topic. */
  readonly topic: string;
  readonly payload: EventPayload;
}

/** Deeper than any sensible payload; stops a self-referencing object early with a clear error. */
const MAX_DEPTH = 64;

/**
 * The message content: { id, topic, payload }. Capture stores it whole as the event's feed row,
 * which is how a receipt id finds the deliveries made from its event.
 */
export function eventMessage(event: ApplicationEvent, id: string): string {
  if (event === null || typeof event !== "object") throw new InvalidEventError("event", "expected { topic, payload }");
  const { topic, payload } = event as { topic?: unknown; payload?: unknown };
  if (typeof topic !== "string" || !TOPIC.test(topic)) {
    throw new InvalidEventError("topic", `expected ${TOPIC_TEXT}, got ${describe(topic)}`);
  }
  if (!isPlainObject(payload)) {
    throw new InvalidEventError("payload", `expected a JSON object of fields, got ${describe(payload)}`);
  }
  checkValue(payload, "payload", 0);
  return JSON.stringify({ id, topic, payload });
}

/**
 * JSON.stringify would silently drop undefined and functions and turn a Date into text: an
 * event must carry exactly what the caller wrote, so anything JSON cannot hold as is is refused.
 */
function checkValue(value: unknown, path: string, depth: number): void {
  if (depth > MAX_DEPTH) throw new InvalidEventError(path, `nested deeper than ${MAX_DEPTH} levels (a cycle?)`);
  if (value === null || typeof value === "string" || typeof value === "boolean") return;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new InvalidEventError(path, `${value} has no JSON form`);
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
  throw new InvalidEventError(path, `${describe(value)} is not a JSON value${hint}`);
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
