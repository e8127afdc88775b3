// Turns typed source messages into feed rows, numbering changes inside their transaction.

import type {
  BeginMessage,
  LogicalMessage,
  Op,
  RowChangeMessage,
  TableRef,
  TruncateMessage,
} from "../change/change.js";
import { PgJson, type Row, type Value } from "../change/value.js";
import type { FeedRow } from "../ledger/feed-writer.js";
import { storableJson, storableText } from "../ledger/storable-text.js";
import { rowToJson } from "../ledger/value-json.js";

/** Prefix of pg_logical_emit_message payloads that carry application events (Gateway.send). */
export const EVENT_MESSAGE_PREFIX = "ess.event";
/** Prefix of the messages ESS emits itself to keep an idle slot moving; never stored. */
export const HEARTBEAT_MESSAGE_PREFIX = "ess.heartbeat";

/** A stored change together with what the mappings need of it (typed values, not JSON). */
export interface CapturedChange {
  readonly feed: FeedRow;
  readonly op: Op;
  readonly table: TableRef | null;
  readonly topic: string | null;
  /**
   * The row the mappings read: the new row, the old one for deletes, the event payload for events;
   * null for a truncate and for a table no mapping reads.
   */
  readonly row: Row | null;
  /** For application events: the receipt id and the options the application gave. */
  readonly event?: EventFacts;
  /**
   * Why the ledger refused this change as captured: the feed keeps a placeholder in its place and
   * each of its deliveries is a dead letter with this reason.
   */
  readonly refused?: string;
}

/** What deliveries made from an event keep of it; anything malformed is left out, never fatal. */
export interface EventFacts {
  readonly receiptId: string | null;
  readonly maxAttempts: number | null;
  readonly correlationId: string | null;
  readonly traceId: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const OPTION_TEXT = /^[\x21-\x7e]{1,200}$/;

export interface OpenTransaction {
  readonly begin: BeginMessage;
  /** Ordinal of the next change: (commit LSN, ordinal) is each change's identity. */
  nextOrdinal: number;
}

/**
 * `keepRow`: whether a mapping may read the row. A row no mapping reads is not kept while the
 * change waits for its flush: holding every captured row was a tenth of capture's time.
 */
export function rowChangeToCaptured(txn: OpenTransaction, message: RowChangeMessage, keepRow: boolean): CapturedChange {
  const feed: FeedRow = {
    commitLsn: txn.begin.commitLsn,
    ordinal: txn.nextOrdinal++,
    xid: txn.begin.xid,
    commitTime: txn.begin.commitTime,
    op: message.op,
    tableSchema: message.table.schema,
    tableName: message.table.name,
    topic: null,
    keyJson: rowToJson(message.key),
    beforeJson: rowToJson(message.before),
    afterJson: rowToJson(message.after),
  };
  const row = keepRow ? (message.after ?? message.before) : null;
  return { feed, op: message.op, table: message.table, topic: null, row };
}

/** A truncate names several tables at once: one feed row per table, so each mapping sees its own. */
export function truncateToCaptured(txn: OpenTransaction, message: TruncateMessage): CapturedChange[] {
  return message.tables.map((table) => ({
    op: "truncate" as const,
    table,
    topic: null,
    row: null,
    feed: {
      commitLsn: txn.begin.commitLsn,
      ordinal: txn.nextOrdinal++,
      xid: txn.begin.xid,
      commitTime: txn.begin.commitTime,
      op: "truncate" as const,
      tableSchema: table.schema,
      tableName: table.name,
      topic: null,
      keyJson: "null",
      beforeJson: "null",
      afterJson: JSON.stringify({ cascade: message.cascade, restart_identity: message.restartIdentity }),
    },
  }));
}

/** An application event: the message content is JSON text { topic, payload, … }. */
export function eventToCaptured(txn: OpenTransaction, message: LogicalMessage): CapturedChange {
  const text = message.content.toString("utf8");
  let topic: string | null = null;
  let row: Row | null = null;
  let event: EventFacts | undefined;
  try {
    const parsed = JSON.parse(text) as { id?: unknown; topic?: unknown; payload?: unknown; options?: unknown };
    if (typeof parsed.topic === "string") topic = parsed.topic;
    row = payloadRow(parsed.payload);
    event = eventFacts(parsed.id, parsed.options);
  } catch {
    // Stored anyway with no topic: a malformed event must not stop the stream, and the
    // feed keeps its text for the dead-letter reason.
  }
  const feed: FeedRow = {
    commitLsn: txn.begin.commitLsn,
    ordinal: txn.nextOrdinal++,
    xid: txn.begin.xid,
    commitTime: txn.begin.commitTime,
    op: "message",
    tableSchema: null,
    tableName: null,
    topic: topic === null ? null : storableText(topic),
    keyJson: "null",
    beforeJson: "null",
    afterJson: topic === null ? JSON.stringify({ text: storableText(text) }) : storableEventText(text),
  };
  return { feed, op: "insert", table: null, topic, row, ...(event ? { event } : {}) };
}

/** NUL (raw or as \u0000) and lone surrogates, which the feed's json cannot be read back with. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: a raw NUL is one of the characters looked for.
const UNSTORABLE_JSON_TEXT = /\\u0000|\\u[dD][89abAB][0-9a-fA-F]{2}|\\u[dD][c-fC-F][0-9a-fA-F]{2}|\u0000/;

/** The event's JSON text as stored: as sent, unless it holds what the feed cannot hold. */
function storableEventText(text: string): string {
  if (!UNSTORABLE_JSON_TEXT.test(text)) return text;
  return JSON.stringify(storableJson(JSON.parse(text)));
}

/**
 * The id and options become columns of the deliveries: a value of the wrong shape (an event
 * emitted by hand) is dropped here rather than fail the ledger transaction and stop the stream.
 */
function eventFacts(id: unknown, options: unknown): EventFacts {
  const o = options !== null && typeof options === "object" ? (options as Record<string, unknown>) : {};
  const text = (value: unknown) => (typeof value === "string" && OPTION_TEXT.test(value) ? value : null);
  const max = o.maxAttempts;
  return {
    receiptId: typeof id === "string" && UUID.test(id) ? id.toLowerCase() : null,
    maxAttempts: Number.isInteger(max) && (max as number) >= 1 && (max as number) <= 1000 ? (max as number) : null,
    correlationId: text(o.correlationId),
    traceId: text(o.traceId),
  };
}

/** Event payload fields become the row the mapping reads: nested objects and arrays stay JSON. */
function payloadRow(payload: unknown): Row | null {
  if (payload === null || typeof payload !== "object" || Array.isArray(payload)) return null;
  const row: Record<string, Value> = {};
  for (const [key, value] of Object.entries(payload as Record<string, unknown>)) {
    row[key] =
      value === null || typeof value === "string" || typeof value === "number" || typeof value === "boolean"
        ? value
        : new PgJson(value as never);
  }
  return row;
}
