// Decodes wal2json format-version 2 payloads (one JSON object per B/I/U/D/T/M/C action) into the
// same typed change feed as the pgoutput decoder; the differences wal2json forces are listed on
// Wal2JsonDecoder.
import type {
  BeginMessage,
  ChangeDecoder,
  CommitMessage,
  LogicalMessage,
  RowChangeMessage,
  SourceMessage,
  TableRef,
  TruncateMessage,
} from "../change/change.js";
import { DecodeError } from "./decode-error.js";
import { JsonSyntaxError, type JsonTextTree, parseJsonNumbersAsText } from "./json-text.js";
import {
  type ColumnShape,
  infosFor,
  type KnownTable,
  knowsAll,
  namesOfShapes,
  pick,
  readColumns,
  rowOf,
  sameShapes,
  toInfos,
  withUnchangedToast,
} from "./wal2json-columns.js";
import {
  isObject,
  type JsonObject,
  lsnField,
  missing,
  namesOf,
  numberField,
  stringField,
  timeField,
} from "./wal2json-fields.js";

export { WAL2JSON_START_OPTIONS, wal2jsonStartOptions } from "./wal2json-options.js";

/**
 * Differences from pgoutput, all forced by what wal2json 2.5 prints:
 * - Truncate: one message per table, with `cascade` and `restartIdentity` false (wal2json drops them).
 * - Float and numeric NaN/Infinity arrive as JSON null, so they decode as null.
 * - Message content is printed as text up to the first NUL byte; binary content is not preserved.
 * - Unchanged TOASTed columns are left out of an update. The decoder puts UNCHANGED_TOAST in their
 *   place from the table's last complete column list, so until it has seen an insert or update
 *   of a table (after a restart) such a column is absent from `after` and `columns`. Likewise a
 *   delete lists only the identity columns until the table's full column list is known.
 * - Keys: updates and deletes use wal2json's identity (the replica identity, as pgoutput does);
 *   inserts use the primary key, so for REPLICA IDENTITY FULL or USING INDEX tables an insert's
 *   `key` and `isKey` follow the primary key rather than the replica identity.
 * - Empty transactions (DDL only, other tables) arrive as Begin/Commit pairs; pgoutput skips them.
 * - Stored generated columns are included; pgoutput (PostgreSQL 12 to 17) leaves them out.
 * - A user-defined array type is named '_' + element name from wal2json's 'elem[]' text, which
 *   matches pg_type.typname except for the rare names PostgreSQL had to change to avoid a clash.
 */
export class Wal2JsonDecoder implements ChangeDecoder {
  readonly plugin = "wal2json" as const;
  private readonly tables = new Map<string, KnownTable>();

  decode(payload: Buffer): SourceMessage | null {
    const text = payload.toString("utf8");
    let doc: JsonTextTree;
    try {
      doc = parseJsonNumbersAsText(text);
    } catch (error) {
      if (error instanceof JsonSyntaxError) {
        throw new DecodeError({
          plugin: "wal2json",
          tag: "",
          reason: error.reason,
          context: { offset: error.position },
          cause: error,
        });
      }
      throw error;
    }
    if (!isObject(doc)) throw new DecodeError({ plugin: "wal2json", tag: "", reason: "payload is not a JSON object" });
    const action = doc.action;
    if (typeof action !== "string")
      throw new DecodeError({ plugin: "wal2json", tag: "", reason: "payload has no action" });
    switch (action) {
      case "B":
        return readBegin(doc);
      case "C":
        return readCommit(doc);
      case "I":
      case "U":
      case "D":
        return this.readRow(action, doc);
      case "T":
        return readTruncate(doc);
      case "M":
        return readMessage(doc);
      default:
        throw new DecodeError({
          plugin: "wal2json",
          tag: action,
          reason: "unsupported action (format-version 2 is expected)",
        });
    }
  }

  private readRow(action: "I" | "U" | "D", doc: JsonObject): RowChangeMessage {
    const table: TableRef = { schema: stringField(doc, "schema", action), name: stringField(doc, "table", action) };
    const label = `${table.schema}.${table.name}`;
    const tableKey = `${table.schema}\u0000${table.name}`;
    const known = this.tables.get(tableKey);
    if (action === "D") {
      const identity = readColumns(doc, "identity", action, label, known);
      const keyNames = namesOfShapes(identity.shapes);
      const key = rowOf(identity.shapes, identity.values);
      const columns =
        known !== undefined && knowsAll(known, keyNames)
          ? infosFor(known, keyNames)
          : toInfos(identity.shapes, keyNames);
      return { kind: "row", op: "delete", table, columns, key, before: key, after: null };
    }
    const row = readColumns(doc, "columns", action, label, known);
    if (action === "I") {
      const keyNames = namesOf(doc.pk, action);
      const current = this.learn(tableKey, known, row.shapes);
      const after = rowOf(row.shapes, row.values);
      return {
        kind: "row",
        op: "insert",
        table,
        columns: infosFor(current, keyNames),
        key: pick(after, keyNames),
        before: null,
        after,
      };
    }
    const identity = readColumns(doc, "identity", action, label, known);
    const keyNames = namesOfShapes(identity.shapes);
    const merged = known === undefined ? row : withUnchangedToast(known, row);
    const current = this.learn(tableKey, known, merged.shapes);
    const key = rowOf(identity.shapes, identity.values);
    return {
      kind: "row",
      op: "update",
      table,
      columns: infosFor(current, keyNames),
      key,
      before: key,
      after: rowOf(merged.shapes, merged.values),
    };
  }

  /** Records `shapes` as the table's column list unless it is the one already known. */
  private learn(tableKey: string, known: KnownTable | undefined, shapes: readonly ColumnShape[]): KnownTable {
    if (known !== undefined && sameShapes(known.columns, shapes)) return known;
    const next: KnownTable = { columns: shapes, infos: new Map() };
    this.tables.set(tableKey, next);
    return next;
  }
}

// B: {"action":"B","xid":…,"timestamp":…,"lsn":<final LSN = commit record>,"nextlsn":<end LSN>}
function readBegin(doc: JsonObject): BeginMessage {
  return {
    kind: "begin",
    xid: numberField(doc, "xid", "B"),
    commitLsn: lsnField(doc, "lsn", "B"),
    commitTime: timeField(doc, "B"),
  };
}

// C: {"action":"C","xid":…,"timestamp":…,"lsn":<commit LSN>,"nextlsn":<end LSN>}
function readCommit(doc: JsonObject): CommitMessage {
  return {
    kind: "commit",
    commitLsn: lsnField(doc, "lsn", "C"),
    endLsn: lsnField(doc, "nextlsn", "C"),
    commitTime: timeField(doc, "C"),
  };
}

// T: {"action":"T","xid":…,"lsn":…,"schema":…,"table":…}, one per truncated table.
function readTruncate(doc: JsonObject): TruncateMessage {
  const table = { schema: stringField(doc, "schema", "T"), name: stringField(doc, "table", "T") };
  return { kind: "truncate", tables: [table], cascade: false, restartIdentity: false };
}

// M: {"action":"M","xid":…|null,"lsn":…,"transactional":…,"prefix":…,"content":…}
function readMessage(doc: JsonObject): LogicalMessage {
  const transactional = doc.transactional;
  if (typeof transactional !== "boolean") throw missing("M", "transactional");
  return {
    kind: "message",
    transactional,
    lsn: lsnField(doc, "lsn", "M"),
    prefix: stringField(doc, "prefix", "M"),
    content: Buffer.from(stringField(doc, "content", "M"), "utf8"),
  };
}
