// A lossless text form of the changes of a transaction still in progress, so that they can wait
// outside memory until the transaction commits: every value comes back with its exact type
// (int8 as bigint, bytea as Buffer, dates as their PostgreSQL text, unchanged TOAST as itself).
// JSON.stringify escapes NUL and lone surrogates, so the text itself is always storable.

import type { LogicalMessage, RowChangeMessage, TableRef, TruncateMessage } from "./change.js";
import {
  type JsonValue,
  PgDate,
  PgJson,
  PgTimestamp,
  PgTimestampTz,
  type Row,
  UNCHANGED_TOAST,
  UnchangedToast,
  type Value,
} from "./value.js";

/** What a transaction's body holds: row changes, truncates and transactional messages. */
export type TransactionChange = RowChangeMessage | TruncateMessage | LogicalMessage;

/** Thrown when stored text is not a change this codec wrote. */
export class ChangeCodecError extends Error {
  override readonly name = "ChangeCodecError";
  constructor(
    readonly reason: string,
    readonly text: string,
  ) {
    super(`cannot read a stored change: ${reason} (${text.slice(0, 120)})`);
  }
}

type Encoded = null | boolean | number | string | Encoded[] | { readonly [tag: string]: unknown };

function encodeValue(value: Value): Encoded {
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") return Number.isFinite(value) ? value : { n: String(value) };
  if (typeof value === "bigint") return { i: value.toString() };
  if (Buffer.isBuffer(value)) return { x: value.toString("hex") };
  if (value instanceof PgDate) return { d: value.text };
  if (value instanceof PgTimestamp) return { t: value.text };
  if (value instanceof PgTimestampTz) return { z: value.text };
  if (value instanceof PgJson) return { j: value.value };
  if (value instanceof UnchangedToast) return { u: 1 };
  if (Array.isArray(value)) return value.map(encodeValue);
  throw new TypeError(`a value of an unknown kind: ${String(value)}`);
}

function decodeValue(encoded: unknown, text: string): Value {
  if (encoded === null || typeof encoded === "string" || typeof encoded === "boolean") return encoded;
  if (typeof encoded === "number") return encoded;
  if (Array.isArray(encoded)) return encoded.map((e) => decodeValue(e, text));
  if (typeof encoded !== "object") throw new ChangeCodecError(`unexpected ${typeof encoded}`, text);
  const tagged = encoded as Record<string, unknown>;
  if (typeof tagged.n === "string") return Number(tagged.n);
  if (typeof tagged.i === "string") return BigInt(tagged.i);
  if (typeof tagged.x === "string") return Buffer.from(tagged.x, "hex");
  if (typeof tagged.d === "string") return new PgDate(tagged.d);
  if (typeof tagged.t === "string") return new PgTimestamp(tagged.t);
  if (typeof tagged.z === "string") return new PgTimestampTz(tagged.z);
  if ("j" in tagged) return new PgJson(tagged.j as JsonValue);
  if (tagged.u === 1) return UNCHANGED_TOAST;
  throw new ChangeCodecError("an object that is no tagged value", text);
}

function encodeRow(row: Row | null): Record<string, Encoded> | null {
  if (row === null) return null;
  const out: Record<string, Encoded> = {};
  for (const key in row) out[key] = encodeValue(row[key] as Value);
  return out;
}

function decodeRow(encoded: unknown, text: string): Row | null {
  if (encoded === null) return null;
  if (typeof encoded !== "object" || Array.isArray(encoded)) throw new ChangeCodecError("a row is no object", text);
  const row: Record<string, Value> = {};
  for (const [key, value] of Object.entries(encoded as Record<string, unknown>)) row[key] = decodeValue(value, text);
  return row;
}

/** The change as one line of JSON text (the column descriptions are not kept: nothing after capture reads them). */
export function encodeChange(change: TransactionChange): string {
  switch (change.kind) {
    case "row":
      return JSON.stringify({
        k: "row",
        op: change.op,
        s: change.table.schema,
        n: change.table.name,
        key: encodeRow(change.key),
        b: encodeRow(change.before),
        a: encodeRow(change.after),
      });
    case "truncate":
      return JSON.stringify({
        k: "truncate",
        tables: change.tables.map((t) => [t.schema, t.name]),
        c: change.cascade,
        r: change.restartIdentity,
      });
    case "message":
      return JSON.stringify({
        k: "message",
        tr: change.transactional,
        lsn: change.lsn.toString(),
        p: change.prefix,
        c: change.content.toString("base64"),
      });
  }
}

export function decodeChange(text: string): TransactionChange {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new ChangeCodecError("not JSON", text);
  }
  switch (parsed.k) {
    case "row": {
      const op = parsed.op;
      if (op !== "insert" && op !== "update" && op !== "delete") throw new ChangeCodecError("unknown op", text);
      const key = decodeRow(parsed.key, text) ?? {};
      return {
        kind: "row",
        op,
        table: { schema: String(parsed.s), name: String(parsed.n) },
        columns: [],
        key,
        before: decodeRow(parsed.b, text),
        after: decodeRow(parsed.a, text),
      };
    }
    case "truncate": {
      const tables = parsed.tables;
      if (!Array.isArray(tables)) throw new ChangeCodecError("a truncate without tables", text);
      return {
        kind: "truncate",
        tables: tables.map(
          (t): TableRef => ({ schema: String((t as unknown[])[0]), name: String((t as unknown[])[1]) }),
        ),
        cascade: parsed.c === true,
        restartIdentity: parsed.r === true,
      };
    }
    case "message":
      return {
        kind: "message",
        transactional: parsed.tr === true,
        lsn: BigInt(String(parsed.lsn)),
        prefix: String(parsed.p),
        content: Buffer.from(String(parsed.c), "base64"),
      };
    default:
      throw new ChangeCodecError("unknown kind", text);
  }
}
