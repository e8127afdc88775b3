// Turns typed source messages into feed rows, numbering changes inside their transaction.
import type { FeedRow } from "../ledger/feed-writer.js";
import { rowToJson } from "../ledger/value-json.js";
import type { BeginMessage, LogicalMessage, RowChangeMessage, TruncateMessage } from "../source/change.js";

/** Prefix of pg_logical_emit_message payloads that carry application events (Gateway.send). */
export const EVENT_MESSAGE_PREFIX = "ess.event";
/** Prefix of the messages ESS emits itself to keep an idle slot moving; never stored. */
export const HEARTBEAT_MESSAGE_PREFIX = "ess.heartbeat";

export interface OpenTransaction {
  readonly begin: BeginMessage;
  /** Ordinal of the next change: (commit LSN, ordinal) is each change's identity. */
  nextOrdinal: number;
}

export function rowChangeToFeed(txn: OpenTransaction, message: RowChangeMessage): FeedRow {
  return {
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
}

/** A truncate names several tables at once: one feed row per table, so each mapping sees its own. */
export function truncateToFeed(txn: OpenTransaction, message: TruncateMessage): FeedRow[] {
  return message.tables.map((table) => ({
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
  }));
}

/** An application event: the message content is JSON text { topic, payload, … }. */
export function eventToFeed(txn: OpenTransaction, message: LogicalMessage): FeedRow {
  const text = message.content.toString("utf8");
  let topic: string | null = null;
  try {
    const parsed = JSON.parse(text) as { topic?: unknown };
    if (typeof parsed.topic === "string") topic = parsed.topic;
  } catch {
    // Stored anyway with no topic: a malformed event must not stop the stream, and the
    // feed keeps its text for the dead-letter reason.
  }
  return {
    commitLsn: txn.begin.commitLsn,
    ordinal: txn.nextOrdinal++,
    xid: txn.begin.xid,
    commitTime: txn.begin.commitTime,
    op: "message",
    tableSchema: null,
    tableName: null,
    topic,
    keyJson: "null",
    beforeJson: "null",
    afterJson: topic === null ? JSON.stringify({ text }) : text,
  };
}
