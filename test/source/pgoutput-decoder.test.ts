// Golden tests of the pgoutput decoder on hand-built protocol-1 payloads.
import { describe, expect, it } from "vitest";
import type { ColumnInfo, RowChangeMessage, SourceMessage } from "../../src/change/change.js";
import { PgJson, PgTimestampTz, UNCHANGED_TOAST } from "../../src/change/value.js";
import { DecodeError, ValueConversionError } from "../../src/source/decode-error.js";
import { PgoutputDecoder, pgoutputStartOptions } from "../../src/source/pgoutput-decoder.js";
import {
  beginFrame,
  type Cell,
  commitFrame,
  deleteFrame,
  type FrameColumn,
  inStream,
  insertFrame,
  messageFrame,
  originFrame,
  pgMicros,
  rawFrame,
  relationFrame,
  streamAbortFrame,
  streamCommitFrame,
  streamStartFrame,
  streamStopFrame,
  truncateFrame,
  typeFrame,
  UNCHANGED,
  updateFrame,
} from "./pgoutput-frames.js";

const PERMITS = 16401;
const NOTES = 16402;
const AUDIT = 16403;

const permitColumns: readonly FrameColumn[] = [
  { name: "id", typeOid: 23, key: true },
  { name: "status", typeOid: 1043, typeMod: 24 },
  { name: "amount", typeOid: 1700, typeMod: (10 << 16) + 2 + 4 },
  { name: "updated_at", typeOid: 1184 },
  { name: "big", typeOid: 20 },
  { name: "tags", typeOid: 1009 },
  { name: "doc", typeOid: 3802 },
  { name: "body", typeOid: 25 },
];

const expectedPermitColumns: readonly ColumnInfo[] = [
  { name: "id", typeOid: 23, typeName: "int4", typeMod: -1, isKey: true },
  { name: "status", typeOid: 1043, typeName: "varchar", typeMod: 24, isKey: false },
  { name: "amount", typeOid: 1700, typeName: "numeric", typeMod: 655366, isKey: false },
  { name: "updated_at", typeOid: 1184, typeName: "timestamptz", typeMod: -1, isKey: false },
  { name: "big", typeOid: 20, typeName: "int8", typeMod: -1, isKey: false },
  { name: "tags", typeOid: 1009, typeName: "_text", typeMod: -1, isKey: false },
  { name: "doc", typeOid: 3802, typeName: "jsonb", typeMod: -1, isKey: false },
  { name: "body", typeOid: 25, typeName: "text", typeMod: -1, isKey: false },
];

const permitRow: readonly Cell[] = [
  "7",
  "APPROVED",
  "99999999.99",
  "2024-05-04 12:00:00.000001+00",
  "9007199254740993",
  '{"a,b",NULL}',
  '{"n": 1}',
  "long text",
];

function decoderWithPermits(): PgoutputDecoder {
  const decoder = new PgoutputDecoder();
  expect(decoder.decode(relationFrame(PERMITS, "public", "permits", permitColumns))).toBeNull();
  return decoder;
}

function asRow(message: SourceMessage | null): RowChangeMessage {
  expect(message?.kind).toBe("row");
  return message as RowChangeMessage;
}

function decodeError(run: () => unknown): DecodeError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(DecodeError);
    return error as DecodeError;
  }
  throw new Error("expected a DecodeError, nothing was thrown");
}

describe("pgoutput decoder", () => {
  it("decodes Begin with the commit LSN, the xid and the commit time (microseconds truncated)", () => {
    const time = new Date("2024-05-04T12:34:56.789Z");
    const message = new PgoutputDecoder().decode(beginFrame(0x1_0000_00a0n, pgMicros(time, 654), 4_000_000_000));
    expect(message).toStrictEqual({ kind: "begin", xid: 4_000_000_000, commitLsn: 0x1_0000_00a0n, commitTime: time });
  });

  it("decodes Commit with the commit and end LSNs", () => {
    const time = new Date("2024-05-04T12:34:56.789Z");
    const message = new PgoutputDecoder().decode(commitFrame(0x16b3748n, 0x16b3778n, pgMicros(time)));
    expect(message).toStrictEqual({ kind: "commit", commitLsn: 0x16b3748n, endLsn: 0x16b3778n, commitTime: time });
  });

  it("reads times before 2000 (negative microseconds) without rounding up", () => {
    const time = new Date("1999-12-31T23:59:59.999Z");
    const message = new PgoutputDecoder().decode(beginFrame(1n, pgMicros(time, 500), 1));
    expect(message).toMatchObject({ commitTime: time });
  });

  it("ignores Origin and Relation messages (they yield nothing)", () => {
    const decoder = new PgoutputDecoder();
    expect(decoder.decode(originFrame(0x10n, "upstream"))).toBeNull();
    expect(decoder.decode(relationFrame(PERMITS, "public", "permits", permitColumns))).toBeNull();
  });

  it("decodes an Insert into typed values, with the key taken from the new row", () => {
    const row = asRow(decoderWithPermits().decode(insertFrame(PERMITS, permitRow)));
    expect(row).toStrictEqual({
      kind: "row",
      op: "insert",
      table: { schema: "public", name: "permits" },
      columns: expectedPermitColumns,
      key: { id: 7 },
      before: null,
      after: {
        id: 7,
        status: "APPROVED",
        amount: "99999999.99",
        updated_at: new PgTimestampTz("2024-05-04T12:00:00.000001Z"),
        big: 9007199254740993n,
        tags: ["a,b", null],
        doc: new PgJson({ n: 1 }),
        body: "long text",
      },
    });
  });

  it("keeps the unchanged-TOAST marker of an Update as UNCHANGED_TOAST, never null", () => {
    const cells: Cell[] = [...permitRow.slice(0, 7), UNCHANGED];
    const row = asRow(decoderWithPermits().decode(updateFrame(PERMITS, cells)));
    expect(row.op).toBe("update");
    expect(row.after?.body).toBe(UNCHANGED_TOAST);
    expect(row.after?.body).not.toBeNull();
    // No old tuple: the key did not change, and 'before' holds the key columns of the new row.
    expect(row.key).toStrictEqual({ id: 7 });
    expect(row.before).toStrictEqual({ id: 7 });
  });

  it("takes key and before from the 'K' tuple when an Update changes the key", () => {
    const oldKey: Cell[] = ["6", null, null, null, null, null, null, null];
    const row = asRow(decoderWithPermits().decode(updateFrame(PERMITS, permitRow, { kind: "K", cells: oldKey })));
    expect(row.key).toStrictEqual({ id: 6 });
    expect(row.before).toStrictEqual({ id: 6 });
    expect(row.after?.id).toBe(7);
  });

  it("gives the whole old row as before for an 'O' tuple (REPLICA IDENTITY FULL)", () => {
    const decoder = new PgoutputDecoder();
    const full = [
      { name: "id", typeOid: 23, key: true },
      { name: "note", typeOid: 25, key: true },
    ];
    decoder.decode(relationFrame(NOTES, "public", "notes", full, "f"));
    const row = asRow(decoder.decode(updateFrame(NOTES, ["1", "new"], { kind: "O", cells: ["1", "old"] })));
    expect(row.before).toStrictEqual({ id: 1, note: "old" });
    expect(row.key).toStrictEqual({ id: 1, note: "old" });
    expect(row.after).toStrictEqual({ id: 1, note: "new" });
  });

  it("decodes a Delete with a key tuple: key columns only, no after", () => {
    const oldKey: Cell[] = ["7", null, null, null, null, null, null, null];
    const row = asRow(decoderWithPermits().decode(deleteFrame(PERMITS, "K", oldKey)));
    expect(row).toStrictEqual({
      kind: "row",
      op: "delete",
      table: { schema: "public", name: "permits" },
      columns: expectedPermitColumns,
      key: { id: 7 },
      before: { id: 7 },
      after: null,
    });
  });

  it("decodes a Delete with an 'O' tuple into the whole old row", () => {
    const row = asRow(decoderWithPermits().decode(deleteFrame(PERMITS, "O", permitRow)));
    expect(row.before).toMatchObject({ id: 7, status: "APPROVED", big: 9007199254740993n });
    expect(row.key).toStrictEqual({ id: 7 });
  });

  it("decodes Truncate of several tables with its options", () => {
    const decoder = decoderWithPermits();
    decoder.decode(relationFrame(NOTES, "hms", "notes", [{ name: "id", typeOid: 23, key: true }]));
    expect(decoder.decode(truncateFrame([PERMITS, NOTES], { cascade: true, restartIdentity: true }))).toStrictEqual({
      kind: "truncate",
      tables: [
        { schema: "public", name: "permits" },
        { schema: "hms", name: "notes" },
      ],
      cascade: true,
      restartIdentity: true,
    });
    expect(decoder.decode(truncateFrame([NOTES], {}))).toMatchObject({ cascade: false, restartIdentity: false });
  });

  it("decodes transactional and non-transactional logical messages with binary content", () => {
    const decoder = new PgoutputDecoder();
    const content = Buffer.from([0x00, 0xff, 0x7b]);
    expect(decoder.decode(messageFrame(true, 0x1535088n, "ess.event", content))).toStrictEqual({
      kind: "message",
      transactional: true,
      lsn: 0x1535088n,
      prefix: "ess.event",
      content,
    });
    expect(decoder.decode(messageFrame(false, 0x10n, "ess.heartbeat", Buffer.alloc(0)))).toMatchObject({
      transactional: false,
      content: Buffer.alloc(0),
    });
  });

  it("names user types from Type messages and converts user array types to arrays", () => {
    const decoder = new PgoutputDecoder();
    expect(decoder.decode(typeFrame(16385, "public", "mood"))).toBeNull();
    expect(decoder.decode(typeFrame(16384, "public", "_mood"))).toBeNull();
    decoder.decode(
      relationFrame(AUDIT, "public", "moods", [
        { name: "m", typeOid: 16385 },
        { name: "ms", typeOid: 16384 },
      ]),
    );
    const row = asRow(decoder.decode(insertFrame(AUDIT, ["happy", "{happy,sad}"])));
    expect(row.columns.map((c) => c.typeName)).toEqual(["mood", "_mood"]);
    expect(row.after).toStrictEqual({ m: "happy", ms: ["happy", "sad"] });
    expect(row.key).toStrictEqual({});
  });

  it("applies a Relation message that adds a column to the rows that follow, not to earlier ones", () => {
    const decoder = new PgoutputDecoder();
    decoder.decode(relationFrame(NOTES, "public", "notes", [{ name: "id", typeOid: 23, key: true }]));
    const first = asRow(decoder.decode(insertFrame(NOTES, ["1"])));
    decoder.decode(
      relationFrame(NOTES, "public", "notes", [
        { name: "id", typeOid: 23, key: true },
        { name: "extra", typeOid: 20 },
      ]),
    );
    const second = asRow(decoder.decode(insertFrame(NOTES, ["2", "5"])));
    expect(first.after).toStrictEqual({ id: 1 });
    expect(first.columns.map((c) => c.name)).toEqual(["id"]);
    expect(second.after).toStrictEqual({ id: 2, extra: 5n });
    expect(second.columns.map((c) => c.name)).toEqual(["id", "extra"]);
    // A row built for the old shape no longer decodes.
    expect(decodeError(() => decoder.decode(insertFrame(NOTES, ["3"]))).reason).toMatch(/1 column\(s\).*announced 2/);
  });

  it("reads an empty namespace as pg_catalog and keeps a column named __proto__ as data", () => {
    const decoder = new PgoutputDecoder();
    decoder.decode(relationFrame(NOTES, "", "odd", [{ name: "__proto__", typeOid: 25, key: true }]));
    const row = asRow(decoder.decode(insertFrame(NOTES, ["x"])));
    expect(row.table).toStrictEqual({ schema: "pg_catalog", name: "odd" });
    expect(Object.keys(row.after ?? {})).toEqual(["__proto__"]);
    expect(Object.getPrototypeOf(row.after)).toBe(Object.prototype);
    expect(Object.keys(row.key)).toEqual(["__proto__"]);
  });

  it.each([
    ["b", "Begin Prepare"],
    ["P", "Prepare"],
    ["K", "Commit Prepared"],
    ["r", "Rollback Prepared"],
    ["p", "Stream Prepare"],
    ["Z", "an unknown tag"],
  ])("refuses '%s' (%s) with a DecodeError naming the tag", (tag) => {
    const error = decodeError(() => new PgoutputDecoder().decode(rawFrame(tag, Buffer.alloc(12))));
    expect(error.plugin).toBe("pgoutput");
    expect(error.tag).toBe(tag);
    expect(error.message).toContain(`'${tag}'`);
  });

  it("refuses a change for a relation it was never told about", () => {
    const error = decodeError(() => new PgoutputDecoder().decode(insertFrame(999, ["1"])));
    expect(error.tag).toBe("I");
    expect(error.context.relationId).toBe(999);
  });

  it("refuses truncated payloads, trailing bytes and empty payloads", () => {
    const begin = beginFrame(1n, 0n, 1);
    expect(decodeError(() => new PgoutputDecoder().decode(begin.subarray(0, 10))).context.offset).toBe(9);
    expect(decodeError(() => new PgoutputDecoder().decode(Buffer.concat([begin, Buffer.from([0])]))).reason).toMatch(
      /trailing/,
    );
    expect(decodeError(() => new PgoutputDecoder().decode(Buffer.alloc(0))).reason).toBe("empty payload");
  });

  it("refuses binary column data, which protocol 1 without the binary option never sends", () => {
    const decoder = decoderWithPermits();
    const frame = insertFrame(PERMITS, permitRow);
    const binary = Buffer.from(frame);
    binary[8] = "b".charCodeAt(0); // first cell marker: 'I', Int32 relid, 'N', Int16 count, then the cell
    const error = decodeError(() => decoder.decode(binary));
    expect(error.context).toMatchObject({ table: "public.permits", column: "id" });
  });

  it("names the table and column when a value cannot be read, without the value", () => {
    const decoder = decoderWithPermits();
    const bad = [...permitRow];
    bad[3] = "not a time";
    const error = decodeError(() => decoder.decode(insertFrame(PERMITS, bad)));
    expect(error.context).toMatchObject({ table: "public.permits", column: "updated_at" });
    expect(error.cause).toBeInstanceOf(ValueConversionError);
    expect(error.message).not.toContain("not a time");
  });

  it("asks the server for protocol 1 with logical messages and the publication name quoted exactly", () => {
    expect(pgoutputStartOptions("ess_pub", 130010)).toStrictEqual({
      proto_version: "1",
      publication_names: '"ess_pub"',
      messages: "true",
    });
    expect(pgoutputStartOptions('Odd "Pub"').publication_names).toBe('"Odd ""Pub"""');
  });

  it("asks PostgreSQL 14 and newer for protocol 2 with streamed transactions", () => {
    expect(pgoutputStartOptions("ess_pub", 140000)).toStrictEqual({
      proto_version: "2",
      publication_names: '"ess_pub"',
      messages: "true",
      streaming: "on",
    });
  });

  it("decodes stream segments: the xid inside a segment, then the transaction's commit or abort", () => {
    const decoder = new PgoutputDecoder();
    const at = new Date("2024-05-04T12:00:00.123Z");
    expect(decoder.decode(streamStartFrame(740, true))).toStrictEqual({
      kind: "stream-start",
      xid: 740,
      firstSegment: true,
    });
    expect(decoder.decode(inStream(740, relationFrame(PERMITS, "public", "permits", permitColumns)))).toBeNull();
    const row = asRow(decoder.decode(inStream(741, insertFrame(PERMITS, permitRow))));
    expect(row.streamXid).toBe(741);
    expect(row.after?.id).toBe(7);
    const message = decoder.decode(inStream(740, messageFrame(true, 0x100n, "ess.event", Buffer.from("{}"))));
    expect(message).toMatchObject({ kind: "message", prefix: "ess.event", streamXid: 740 });
    expect(decoder.decode(streamStopFrame())).toStrictEqual({ kind: "stream-stop" });
    // Outside a segment, frames carry no xid again.
    expect(asRow(decoder.decode(insertFrame(PERMITS, permitRow))).streamXid).toBeUndefined();
    expect(decoder.decode(streamStartFrame(740, false))).toMatchObject({ firstSegment: false });
    expect(decoder.decode(streamStopFrame())).toStrictEqual({ kind: "stream-stop" });
    expect(decoder.decode(streamAbortFrame(740, 741))).toStrictEqual({ kind: "stream-abort", xid: 740, subXid: 741 });
    expect(decoder.decode(streamCommitFrame(740, 0x2000n, 0x2040n, pgMicros(at)))).toStrictEqual({
      kind: "stream-commit",
      xid: 740,
      commitLsn: 0x2000n,
      endLsn: 0x2040n,
      commitTime: at,
    });
  });

  it("refuses stream segments out of order", () => {
    const decoder = new PgoutputDecoder();
    expect(decodeError(() => decoder.decode(streamStopFrame())).tag).toBe("E");
    decoder.decode(streamStartFrame(1, true));
    expect(decodeError(() => decoder.decode(streamStartFrame(2, true))).tag).toBe("S");
    expect(decodeError(() => decoder.decode(streamCommitFrame(1, 1n, 2n, 0n))).tag).toBe("c");
    expect(decodeError(() => decoder.decode(streamAbortFrame(1, 1))).tag).toBe("A");
    expect(decodeError(() => decoder.decode(inStream(1, beginFrame(1n, 0n, 1)))).tag).toBe("B");
  });
});
