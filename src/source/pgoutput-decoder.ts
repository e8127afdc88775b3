// Decodes pgoutput payloads (logical replication protocol version 1, or 2 with streamed
// transactions, with logical messages) into the typed change feed. Message layouts, cited below message by message, are those of
// https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html

import type {
  BeginMessage,
  ChangeDecoder,
  ColumnInfo,
  CommitMessage,
  LogicalMessage,
  RowChangeMessage,
  SourceMessage,
  StreamAbortMessage,
  StreamCommitMessage,
  StreamStartMessage,
  TableRef,
  TruncateMessage,
} from "../change/change.js";
import type { Value } from "../change/value.js";
import { quoteIdentifier } from "../sql/sql-identifier.js";
import { BinaryReader, TruncatedPayloadError } from "./binary-reader.js";
import { DecodeError } from "./decode-error.js";
import { builtinType } from "./pg-type-oids.js";
import { describeRelation, keyOf, type RelationEntry, readTuple, rowOf } from "./pgoutput-tuple.js";

/** The first server version whose pgoutput streams transactions in progress (protocol 2). */
export const STREAMING_SERVER_VERSION = 140000;

/**
 * START_REPLICATION options for pgoutput: text values and `M` messages for
 * pg_logical_emit_message(). From PostgreSQL 14 on, protocol 2 with `streaming on`: a transaction
 * larger than the server's logical_decoding_work_mem is sent while still in progress, in
 * segments, and committed or aborted later. Older servers get protocol 1, where every change
 * arrives inside Begin…Commit, after the commit.
 */
export function pgoutputStartOptions(publication: string, serverVersionNum = 0): Record<string, string> {
  const streaming = serverVersionNum >= STREAMING_SERVER_VERSION;
  return {
    proto_version: streaming ? "2" : "1",
    // publication_names is an identifier list: quoted, so the name is taken exactly as configured.
    publication_names: quoteIdentifier(publication),
    messages: "true",
    ...(streaming ? { streaming: "on" } : {}),
  };
}

// Milliseconds between the Unix epoch and PostgreSQL's epoch (2000-01-01 00:00:00 UTC).
const PG_EPOCH_MS = 946_684_800_000n;
const TAG_BEGIN = 0x42; // B
const TAG_COMMIT = 0x43; // C
const TAG_ORIGIN = 0x4f; // O
const TAG_RELATION = 0x52; // R
const TAG_TYPE = 0x59; // Y
const TAG_INSERT = 0x49; // I
const TAG_UPDATE = 0x55; // U
const TAG_DELETE = 0x44; // D
const TAG_TRUNCATE = 0x54; // T
const TAG_MESSAGE = 0x4d; // M
const TAG_STREAM_START = 0x53; // S
const TAG_STREAM_STOP = 0x45; // E
const TAG_STREAM_COMMIT = 0x63; // c
const TAG_STREAM_ABORT = 0x41; // A
const TUPLE_KEY = 0x4b; // K
const TUPLE_OLD = 0x4f; // O
const TUPLE_NEW = 0x4e; // N

export class PgoutputDecoder implements ChangeDecoder {
  readonly plugin = "pgoutput" as const;
  private readonly relations = new Map<number, RelationEntry>();
  /** Names of non-built-in types, from Type messages (pgoutput sends one before first use). */
  private readonly typeNames = new Map<number, string>();
  /**
   * Between Stream Start and Stream Stop: Relation, Type, change and message frames then begin
   * with an Int32 xid (protocol 2), the (sub)transaction they belong to.
   */
  private inStream = false;

  decode(payload: Buffer): SourceMessage | null {
    if (payload.length === 0) throw new DecodeError({ plugin: "pgoutput", tag: "", reason: "empty payload" });
    const tag = payload[0]!;
    const reader = new BinaryReader(payload);
    reader.offset = 1;
    let message: SourceMessage | null;
    try {
      message = this.decodeTagged(tag, reader);
    } catch (error) {
      if (error instanceof TruncatedPayloadError) {
        throw new DecodeError({
          plugin: "pgoutput",
          tag: String.fromCharCode(tag),
          reason: error.message,
          context: { offset: error.offset },
          cause: error,
        });
      }
      throw error;
    }
    if (reader.remaining !== 0) {
      throw new DecodeError({
        plugin: "pgoutput",
        tag: String.fromCharCode(tag),
        reason: `${reader.remaining} unexpected trailing byte(s)`,
        context: {
          offset: reader.offset,
        },
      });
    }
    return message;
  }

  private decodeTagged(tag: number, r: BinaryReader): SourceMessage | null {
    switch (tag) {
      case TAG_STREAM_START:
        if (this.inStream) throw streamOrderError(tag, "Stream Start inside a stream segment");
        this.inStream = true;
        return readStreamStart(r);
      case TAG_STREAM_STOP:
        if (!this.inStream) throw streamOrderError(tag, "Stream Stop outside a stream segment");
        this.inStream = false;
        return { kind: "stream-stop" };
      case TAG_STREAM_COMMIT:
        if (this.inStream) throw streamOrderError(tag, "Stream Commit inside a stream segment");
        return readStreamCommit(r);
      case TAG_STREAM_ABORT:
        if (this.inStream) throw streamOrderError(tag, "Stream Abort inside a stream segment");
        return readStreamAbort(r);
    }
    const streamXid = this.inStream ? r.uint32() : undefined;
    const message = this.decodeInTransaction(tag, r);
    if (streamXid === undefined || message === null) return message;
    if (message.kind === "row" || message.kind === "truncate" || message.kind === "message") {
      return { ...message, streamXid };
    }
    throw streamOrderError(tag, `a ${message.kind} inside a stream segment`);
  }

  private decodeInTransaction(tag: number, r: BinaryReader): SourceMessage | null {
    switch (tag) {
      case TAG_BEGIN:
        return readBegin(r);
      case TAG_COMMIT:
        return readCommit(r);
      case TAG_ORIGIN:
        // Origin: Int64 commit LSN on the origin server, String origin name. Only sent for
        // changes replicated in from elsewhere; the feed does not distinguish them.
        r.uint64();
        r.cstring();
        return null;
      case TAG_RELATION:
        this.readRelation(r);
        return null;
      case TAG_TYPE:
        this.readType(r);
        return null;
      case TAG_INSERT:
        return this.readInsert(r);
      case TAG_UPDATE:
        return this.readUpdate(r);
      case TAG_DELETE:
        return this.readDelete(r);
      case TAG_TRUNCATE:
        return this.readTruncate(r);
      case TAG_MESSAGE:
        return readMessage(r);
      default:
        // Two-phase (b/P/K/r) and anything newer need options pgoutputStartOptions never asks for.
        throw new DecodeError({
          plugin: "pgoutput",
          tag: String.fromCharCode(tag),
          reason: "unsupported message type (the decoder speaks protocol versions 1 and 2, without two-phase)",
          context: { offset: 0 },
        });
    }
  }

  // Relation: Int32 relation OID, String namespace ("" for pg_catalog), String relation name,
  // Int8 replica identity setting, Int16 column count, then per column: Int8 flags (1 = part of
  // the key), String name, Int32 type OID, Int32 type modifier. A Relation message precedes the
  // first change of a relation in a session and is sent again after its definition changes, so
  // it simply replaces the cached entry: the following rows use the new columns.
  private readRelation(r: BinaryReader): void {
    const id = r.uint32();
    const schema = r.cstring() || "pg_catalog";
    const name = r.cstring();
    r.uint8();
    const count = r.int16();
    const columns: ColumnInfo[] = [];
    for (let i = 0; i < count; i++) {
      const flags = r.uint8();
      const columnName = r.cstring();
      const typeOid = r.uint32();
      const typeMod = r.int32();
      const typeName = builtinType(typeOid)?.name ?? this.typeNames.get(typeOid) ?? String(typeOid);
      columns.push({ name: columnName, typeOid, typeName, typeMod, isKey: (flags & 1) === 1 });
    }
    this.relations.set(id, describeRelation(id, { schema, name }, columns));
  }

  // Type: Int32 type OID, String namespace, String type name (sent for non-built-in types only).
  private readType(r: BinaryReader): void {
    const oid = r.uint32();
    r.cstring();
    this.typeNames.set(oid, r.cstring());
  }

  private relation(r: BinaryReader, tag: number): RelationEntry {
    const at = r.offset;
    const id = r.uint32();
    const rel = this.relations.get(id);
    if (rel === undefined) {
      throw new DecodeError({
        plugin: "pgoutput",
        tag: String.fromCharCode(tag),
        reason: "change for a relation no Relation message described",
        context: {
          relationId: id,
          offset: at,
        },
      });
    }
    return rel;
  }

  // Insert: Int32 relation OID, Byte1 'N', TupleData (the new row).
  private readInsert(r: BinaryReader): RowChangeMessage {
    const rel = this.relation(r, TAG_INSERT);
    expectTupleKind(r, TAG_INSERT, TUPLE_NEW, rel);
    const values = readTuple(r, rel, TAG_INSERT);
    const after = rowOf(rel, values);
    return {
      kind: "row",
      op: "insert",
      table: rel.table,
      columns: rel.columns,
      key: keyOf(rel, values),
      before: null,
      after,
    };
  }

  // Update: Int32 relation OID, then optionally Byte1 'K' (old key columns; the others are null)
  // or 'O' (whole old row, REPLICA IDENTITY FULL) with a TupleData, then Byte1 'N' and the new
  // row's TupleData. Without K/O the key did not change, so the new row carries it.
  private readUpdate(r: BinaryReader): RowChangeMessage {
    const rel = this.relation(r, TAG_UPDATE);
    let kind = r.uint8();
    let old: Value[] | null = null;
    const oldKind = kind;
    if (kind === TUPLE_KEY || kind === TUPLE_OLD) {
      old = readTuple(r, rel, TAG_UPDATE);
      kind = r.uint8();
    }
    if (kind !== TUPLE_NEW) throw unexpectedTuple(TAG_UPDATE, kind, r.offset - 1, rel);
    const values = readTuple(r, rel, TAG_UPDATE);
    const keySource = old ?? values;
    const key = keyOf(rel, keySource);
    const before = old !== null && oldKind === TUPLE_OLD ? rowOf(rel, old) : key;
    return {
      kind: "row",
      op: "update",
      table: rel.table,
      columns: rel.columns,
      key,
      before,
      after: rowOf(rel, values),
    };
  }

  // Delete: Int32 relation OID, Byte1 'K' (key columns) or 'O' (whole old row), TupleData.
  private readDelete(r: BinaryReader): RowChangeMessage {
    const rel = this.relation(r, TAG_DELETE);
    const kind = r.uint8();
    if (kind !== TUPLE_KEY && kind !== TUPLE_OLD) throw unexpectedTuple(TAG_DELETE, kind, r.offset - 1, rel);
    const old = readTuple(r, rel, TAG_DELETE);
    const key = keyOf(rel, old);
    const before = kind === TUPLE_OLD ? rowOf(rel, old) : key;
    return { kind: "row", op: "delete", table: rel.table, columns: rel.columns, key, before, after: null };
  }

  // Truncate: Int32 number of relations, Int8 option bits (1 = CASCADE, 2 = RESTART IDENTITY),
  // then Int32 OID per relation. One message covers every published table the command emptied.
  private readTruncate(r: BinaryReader): TruncateMessage {
    const count = r.int32();
    const options = r.uint8();
    const tables: TableRef[] = [];
    for (let i = 0; i < count; i++) tables.push(this.relation(r, TAG_TRUNCATE).table);
    return { kind: "truncate", tables, cascade: (options & 1) !== 0, restartIdentity: (options & 2) !== 0 };
  }
}

// Begin: Int64 final LSN of the transaction (its commit record), Int64 commit timestamp
// (microseconds since 2000-01-01), Int32 xid.
function readBegin(r: BinaryReader): BeginMessage {
  const commitLsn = r.uint64();
  const commitTime = pgTimestampToDate(r.int64());
  const xid = r.uint32();
  return { kind: "begin", xid, commitLsn, commitTime };
}

// Commit: Int8 flags (unused), Int64 LSN of the commit, Int64 end LSN of the transaction,
// Int64 commit timestamp.
function readCommit(r: BinaryReader): CommitMessage {
  r.uint8();
  const commitLsn = r.uint64();
  const endLsn = r.uint64();
  const commitTime = pgTimestampToDate(r.int64());
  return { kind: "commit", commitLsn, endLsn, commitTime };
}

// Stream Start: Int32 xid of the transaction, Int8 1 if this is its first segment.
function readStreamStart(r: BinaryReader): StreamStartMessage {
  const xid = r.uint32();
  return { kind: "stream-start", xid, firstSegment: r.uint8() === 1 };
}

// Stream Commit: Int32 xid, Int8 flags (unused), Int64 LSN of the commit, Int64 end LSN of the
// transaction, Int64 commit timestamp.
function readStreamCommit(r: BinaryReader): StreamCommitMessage {
  const xid = r.uint32();
  r.uint8();
  const commitLsn = r.uint64();
  const endLsn = r.uint64();
  return { kind: "stream-commit", xid, commitLsn, endLsn, commitTime: pgTimestampToDate(r.int64()) };
}

// Stream Abort: Int32 xid of the transaction, Int32 xid of the subtransaction (the same for the
// transaction itself). Protocol 4 adds an abort LSN and time, only with `streaming parallel`.
function readStreamAbort(r: BinaryReader): StreamAbortMessage {
  const xid = r.uint32();
  return { kind: "stream-abort", xid, subXid: r.uint32() };
}

function streamOrderError(tag: number, what: string): DecodeError {
  return new DecodeError({
    plugin: "pgoutput",
    tag: String.fromCharCode(tag),
    reason: `${what}: the stream's segments are out of order`,
    context: {
      offset: 0,
    },
  });
}

// Message: Int8 flags (1 = transactional), Int64 LSN of the message, String prefix, Int32 content
// length, Byten content. (Inside a stream segment the xid before it is read by decodeTagged.)
function readMessage(r: BinaryReader): LogicalMessage {
  const flags = r.uint8();
  const lsn = r.uint64();
  const prefix = r.cstring();
  const length = r.int32();
  const content = r.bytes(length);
  return { kind: "message", transactional: (flags & 1) !== 0, lsn, prefix, content };
}

function expectTupleKind(r: BinaryReader, tag: number, expected: number, rel: RelationEntry): void {
  const kind = r.uint8();
  if (kind !== expected) throw unexpectedTuple(tag, kind, r.offset - 1, rel);
}

function unexpectedTuple(tag: number, kind: number, offset: number, rel: RelationEntry): DecodeError {
  return new DecodeError({
    plugin: "pgoutput",
    tag: String.fromCharCode(tag),
    reason: `unexpected tuple marker 0x${kind.toString(16)}`,
    context: {
      table: rel.label,
      relationId: rel.id,
      offset,
    },
  });
}

/** pgoutput timestamps count microseconds from 2000-01-01 UTC; Date keeps milliseconds (floor). */
export function pgTimestampToDate(micros: bigint): Date {
  let ms = micros / 1000n;
  if (micros < 0n && ms * 1000n !== micros) ms -= 1n;
  return new Date(Number(ms + PG_EPOCH_MS));
}
