// JSON records (REST bodies) and SOAP argument objects: the fields in declaration order as UTF-8 JSON text.
import { PgDate, PgJson, PgTimestamp, PgTimestampTz, type Row, type Value } from "../change/value.js";
import type { CompiledField } from "./field.js";
import { cellText } from "./formatter.js";
import type { RenderContext } from "./pseudo-columns.js";
import { type Cell, RawBytes, valueText } from "./value-text.js";

/** A JSON object's members: a field's value, or a nested object (SOAP arguments `Request.Id`). */
export type JsonMember =
  | { readonly key: string; readonly field: CompiledField }
  | { readonly key: string; readonly members: JsonMember[] };

/** A member path that is both a value and an object (`a` and `a.b`). */
export class JsonShapeError extends Error {
  override readonly name = "JsonShapeError";
  constructor(
    readonly field: CompiledField,
    readonly path: string,
  ) {
    super(`field ${field.name}: ${path} is both a value and an object`);
  }
}

/** The members of a record; with `nested`, dotted names build nested objects. Throws JsonShapeError. */
export function jsonShape(fields: readonly CompiledField[], nested: boolean): JsonMember[] {
  const root: JsonMember[] = [];
  for (const field of fields) {
    if (field.dropped) continue;
    const path = nested ? field.name.split(".") : [field.name];
    let members = root;
    for (let i = 0; i < path.length - 1; i++) {
      const key = path[i]!;
      let parent = members.find((m) => m.key === key);
      if (!parent) {
        parent = { key, members: [] };
        members.push(parent);
      }
      if (!("members" in parent)) throw new JsonShapeError(field, path.slice(0, i + 1).join("."));
      members = parent.members;
    }
    const key = path[path.length - 1]!;
    if (members.some((m) => m.key === key)) throw new JsonShapeError(field, path.join("."));
    members.push({ key, field });
  }
  return root;
}

/** A value in its own JSON type: numbers, booleans, json documents and arrays stay what they are. */
function nativeJson(value: Value): string {
  if (value === null) return "null";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "boolean") return value ? "true" : "false";
  // JSON has no NaN or Infinity; their text keeps the value rather than turning it into null.
  if (typeof value === "number") return Number.isFinite(value) ? JSON.stringify(value) : JSON.stringify(String(value));
  // int8 is written with all its digits; JSON text has no 2^53 limit.
  if (typeof value === "bigint") return value.toString();
  if (value instanceof PgJson) return JSON.stringify(value.value);
  if (value instanceof PgDate || value instanceof PgTimestamp || value instanceof PgTimestampTz) {
    return JSON.stringify(value.text);
  }
  if (Array.isArray(value)) return `[${value.map(nativeJson).join(",")}]`;
  return JSON.stringify(valueText(value));
}

function memberJson(cell: Cell, field: CompiledField): string {
  if (cell === null) return "null";
  if (cell instanceof RawBytes) return JSON.stringify(valueText(cell));
  if (field.bare) return nativeJson(cell);
  const text = cellText(cell);
  // number:D text is a valid JSON number literal; writing it as one keeps every digit.
  if (field.numeric) return text;
  return JSON.stringify(text);
}

function objectJson(members: readonly JsonMember[], row: Row, context: RenderContext): string {
  let out = "{";
  for (let i = 0; i < members.length; i++) {
    const member = members[i]!;
    if (i > 0) out += ",";
    out += JSON.stringify(member.key);
    out += ":";
    out +=
      "members" in member
        ? objectJson(member.members, row, context)
        : memberJson(member.field.evaluate(row, context), member.field);
  }
  return `${out}}`;
}

/** Renders one record as UTF-8 JSON object text. */
export function renderJson(members: readonly JsonMember[], row: Row, context: RenderContext): Buffer {
  return Buffer.from(objectJson(members, row, context), "utf8");
}
