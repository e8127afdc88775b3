// The typed change feed: what a replication decoder (pgoutput or wal2json) yields, message by message.
import type { Row } from "./value.js";

/** A WAL position as an unsigned 64-bit integer (the 'X/Y' text form is for display and SQL). */
export type Lsn = bigint;

export type RowOp = "insert" | "update" | "delete";
export type Op = RowOp | "truncate";

export interface TableRef {
  readonly schema: string;
  readonly name: string;
}

export interface ColumnInfo {
  readonly name: string;
  readonly typeOid: number;
  /** PostgreSQL's type name (e.g. 'int4', 'numeric', '_text'); used when no OID conversion exists. */
  readonly typeName: string;
  readonly typeMod: number;
  /** Part of the replica identity (the key an update or delete carries). */
  readonly isKey: boolean;
}

export interface BeginMessage {
  readonly kind: "begin";
  readonly xid: number;
  /** LSN of the transaction's commit record: with the ordinal, it identifies each change. */
  readonly commitLsn: Lsn;
  readonly commitTime: Date;
}

export interface RowChangeMessage {
  readonly kind: "row";
  readonly op: RowOp;
  readonly table: TableRef;
  readonly columns: readonly ColumnInfo[];
  /** Values of the replica identity columns (for an insert: taken from the new row). */
  readonly key: Row;
  /** The old row: full with REPLICA IDENTITY FULL, key columns only otherwise, null for inserts. */
  readonly before: Row | null;
  /** The new row; null for deletes. Unchanged TOASTed columns hold UNCHANGED_TOAST. */
  readonly after: Row | null;
  /** Inside a streamed transaction: the (sub)transaction that made the change. */
  readonly streamXid?: number;
}

export interface TruncateMessage {
  readonly kind: "truncate";
  readonly tables: readonly TableRef[];
  readonly cascade: boolean;
  readonly restartIdentity: boolean;
  /** Inside a streamed transaction: the (sub)transaction that made the change. */
  readonly streamXid?: number;
}

/** A pg_logical_emit_message() payload (application events and heartbeats). */
export interface LogicalMessage {
  readonly kind: "message";
  readonly transactional: boolean;
  readonly lsn: Lsn;
  readonly prefix: string;
  readonly content: Buffer;
  /** Inside a streamed transaction: the (sub)transaction that emitted the message. */
  readonly streamXid?: number;
}

export interface CommitMessage {
  readonly kind: "commit";
  readonly commitLsn: Lsn;
  /** End of the commit record: the position to confirm once the transaction is durable. */
  readonly endLsn: Lsn;
  readonly commitTime: Date;
}

/**
 * A transaction still in progress is sent in segments (pgoutput protocol 2, `streaming on`):
 * Stream Start … Stream Stop around each segment's changes, then Stream Commit or Stream Abort.
 * Segments of several transactions and whole ordinary transactions may come in between.
 */
export interface StreamStartMessage {
  readonly kind: "stream-start";
  /** The top-level transaction the segment belongs to. */
  readonly xid: number;
  /** The transaction's first segment in this session: anything kept of it from before is stale. */
  readonly firstSegment: boolean;
}

export interface StreamStopMessage {
  readonly kind: "stream-stop";
}

export interface StreamCommitMessage {
  readonly kind: "stream-commit";
  readonly xid: number;
  /** LSN of the commit record, as in Begin: the identity of the transaction's changes. */
  readonly commitLsn: Lsn;
  readonly endLsn: Lsn;
  readonly commitTime: Date;
}

/** The whole transaction (subXid === xid) or one of its subtransactions was rolled back. */
export interface StreamAbortMessage {
  readonly kind: "stream-abort";
  readonly xid: number;
  readonly subXid: number;
}

export type StreamMessage = StreamStartMessage | StreamStopMessage | StreamCommitMessage | StreamAbortMessage;

export type SourceMessage =
  | BeginMessage
  | RowChangeMessage
  | TruncateMessage
  | LogicalMessage
  | CommitMessage
  | StreamMessage;

/** A decoder turns one XLogData payload into at most one typed message (Relation/Type update its state and yield null). */
export interface ChangeDecoder {
  readonly plugin: "pgoutput" | "wal2json";
  decode(payload: Buffer): SourceMessage | null;
}
