// Golden tests of the wal2json format-version 2 decoder on lines printed by wal2json 2.5 on
// PostgreSQL 15 (shortened to the columns each case needs).
import { describe, expect, it } from "vitest";
import type { RowChangeMessage, SourceMessage } from "../../src/change/change.js";
import { PgDate, PgJson, PgTimestamp, PgTimestampTz, UNCHANGED_TOAST } from "../../src/change/value.js";
import { DecodeError } from "../../src/source/decode-error.js";
import { WAL2JSON_START_OPTIONS, Wal2JsonDecoder, wal2jsonStartOptions } from "../../src/source/wal2json-decoder.js";

const decode = (decoder: Wal2JsonDecoder, line: string): SourceMessage | null => decoder.decode(Buffer.from(line));

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

const col = (name: string, type: string, typeoid: number, value: string) =>
  `{"name":"${name}","type":"${type}","typeoid":${typeoid},"value":${value}}`;

const PK = `"pk":[{"name":"id","type":"integer","typeoid":23}]`;

const insertLine = (columns: string[]) =>
  `{"action":"I","xid":730,"timestamp":"2026-11-23 14:52:49.276084+00","lsn":"0/15349E8","schema":"public","table":"t","columns":[${columns.join(",")}],${PK}}`;

const body = "x".repeat(50);
const fullRow = [
  col("id", "integer", 23, "1"),
  col("n", "numeric(10,2)", 1700, "99999999.99"),
  col("body", "text", 25, `"${body}"`),
  col("big", "bigint", 20, "9007199254740993"),
];

describe("wal2json decoder", () => {
  it("takes Begin's commit LSN from 'lsn' (the transaction's final LSN) and its time to the millisecond", () => {
    const line = `{"action":"B","xid":730,"timestamp":"2026-11-23 14:52:49.276084+00","lsn":"0/1535088","nextlsn":"0/15350B8"}`;
    expect(decode(new Wal2JsonDecoder(), line)).toStrictEqual({
      kind: "begin",
      xid: 730,
      commitLsn: 0x1535088n,
      commitTime: new Date("2026-11-23T14:52:49.276Z"),
    });
  });

  it("takes Commit's end LSN from 'nextlsn'", () => {
    const line = `{"action":"C","xid":730,"timestamp":"2026-11-23 14:52:49.276084+00","lsn":"0/1535088","nextlsn":"0/15350B8"}`;
    expect(decode(new Wal2JsonDecoder(), line)).toStrictEqual({
      kind: "commit",
      commitLsn: 0x1535088n,
      endLsn: 0x15350b8n,
      commitTime: new Date("2026-11-23T14:52:49.276Z"),
    });
  });

  it("reads every value type exactly, including bare JSON numbers for numeric and int8", () => {
    const line = insertLine([
      col("id", "integer", 23, "1"),
      col("n", "numeric(10,2)", 1700, "1.50"),
      col("huge", "numeric", 1700, "123456789012345678901234567890.123456789"),
      col("big", "bigint", 20, "9007199254740993"),
      col("f", "double precision", 701, "1e+300"),
      col("nan", "double precision", 701, "null"),
      col("flag", "boolean", 16, "true"),
      col("ts", "timestamp with time zone", 1184, '"2024-01-02 01:04:05.123456+00"'),
      col("tsn", "timestamp(3) without time zone", 1114, '"2024-01-02 03:04:05.5"'),
      col("d", "date", 1082, '"0044-03-15 BC"'),
      col("b", "bytea", 17, '"deadbeef"'),
      col("e", "bytea", 17, '""'),
      col("j", "jsonb", 3802, '"{\\"a\\": {\\"b\\": [1, 2.5, 12345678901234567890]}}"'),
      col("a", "text[]", 1009, '"{\\"a,b\\",\\"c\\\\\\"d\\",NULL,\\"NULL\\"}"'),
      col("m", "mood", 16385, '"happy"'),
      col("ma", "mood[]", 16384, '"{happy,sad}"'),
      col("vc", "character varying(20)", 1043, '"abc"'),
      col("ch", "character(3)", 1042, '"ab "'),
      col("iv", "interval day to second(3)", 1186, '"PT1S"'),
    ]);
    const row = asRow(decode(new Wal2JsonDecoder(), line));
    expect(row.after).toStrictEqual({
      id: 1,
      n: "1.50",
      huge: "123456789012345678901234567890.123456789",
      big: 9007199254740993n,
      f: 1e300,
      nan: null,
      flag: true,
      ts: new PgTimestampTz("2024-01-02T01:04:05.123456Z"),
      tsn: new PgTimestamp("2024-01-02T03:04:05.5"),
      d: new PgDate("0044-03-15 BC"),
      b: Buffer.from("deadbeef", "hex"),
      e: Buffer.alloc(0),
      j: new PgJson({ a: { b: [1, 2.5, "12345678901234567890"] } }),
      a: ["a,b", 'c"d', null, "NULL"],
      m: "happy",
      ma: ["happy", "sad"],
      vc: "abc",
      ch: "ab ",
      iv: "PT1S",
    });
    expect(row.key).toStrictEqual({ id: 1 });
    expect(row.before).toBeNull();
    const types = Object.fromEntries(row.columns.map((c) => [c.name, [c.typeName, c.typeMod, c.isKey]]));
    expect(types).toStrictEqual({
      id: ["int4", -1, true],
      n: ["numeric", (10 << 16) + 2 + 4, false],
      huge: ["numeric", -1, false],
      big: ["int8", -1, false],
      f: ["float8", -1, false],
      nan: ["float8", -1, false],
      flag: ["bool", -1, false],
      ts: ["timestamptz", -1, false],
      tsn: ["timestamp", 3, false],
      d: ["date", -1, false],
      b: ["bytea", -1, false],
      e: ["bytea", -1, false],
      j: ["jsonb", -1, false],
      a: ["_text", -1, false],
      m: ["mood", -1, false],
      ma: ["_mood", -1, false],
      vc: ["varchar", 24, false],
      ch: ["bpchar", 7, false],
      iv: ["interval", 470286339, false],
    });
  });

  it("accepts numbers quoted as strings (numeric-data-types-as-string in wal2json 2.6)", () => {
    const line = insertLine([
      col("id", "integer", 23, '"1"'),
      col("n", "numeric", 1700, '"NaN"'),
      col("f", "double precision", 701, '"-Infinity"'),
    ]);
    expect(asRow(decode(new Wal2JsonDecoder(), line)).after).toStrictEqual({
      id: 1,
      n: "NaN",
      f: Number.NEGATIVE_INFINITY,
    });
  });

  it('reads a type name wal2json printed without JSON escaping (\'"My S"."Odd Type"\')', () => {
    const line = insertLine([
      col("id", "integer", 23, "1"),
      `{"name":"o","type":"My S"."Odd Type","typeoid":16420,"value":"a"}`,
      `{"name":"p","type":"\\"My S\\".\\"Odd Type\\"[]","typeoid":16419,"value":"{a}"}`,
    ]);
    const row = asRow(decode(new Wal2JsonDecoder(), line));
    expect(row.columns.map((c) => c.typeName)).toEqual(["int4", "Odd Type", "_Odd Type"]);
    expect(row.after).toStrictEqual({ id: 1, o: "a", p: ["a"] });
  });

  it("puts UNCHANGED_TOAST where an update left out a column the table still has", () => {
    const decoder = new Wal2JsonDecoder();
    decode(decoder, insertLine(fullRow));
    const update = `{"action":"U","xid":731,"lsn":"0/15350F8","schema":"public","table":"t","columns":[${[
      fullRow[0],
      col("n", "numeric(10,2)", 1700, "1.00"),
      fullRow[3],
    ].join(",")}],"identity":[{"name":"id","type":"integer","typeoid":23,"value":1}],${PK}}`;
    const row = asRow(decode(decoder, update));
    expect(row.after).toStrictEqual({ id: 1, n: "1.00", body: UNCHANGED_TOAST, big: 9007199254740993n });
    expect(Object.keys(row.after!)).toEqual(["id", "n", "body", "big"]);
    expect(row.columns.map((c) => c.name)).toEqual(["id", "n", "body", "big"]);
    expect(row.key).toStrictEqual({ id: 1 });
    expect(row.before).toStrictEqual({ id: 1 });
  });

  it("cannot know about a left-out column before it has seen the table (documented difference)", () => {
    const update = `{"action":"U","xid":731,"lsn":"0/15350F8","schema":"public","table":"t","columns":[${fullRow[0]}],"identity":[{"name":"id","type":"integer","typeoid":23,"value":1}],${PK}}`;
    expect(asRow(decode(new Wal2JsonDecoder(), update)).after).toStrictEqual({ id: 1 });
  });

  it("treats a left-out fixed-length column as dropped, and appends columns added since", () => {
    const decoder = new Wal2JsonDecoder();
    decode(decoder, insertLine(fullRow));
    const update = `{"action":"U","xid":9,"lsn":"0/1","schema":"public","table":"t","columns":[${[
      fullRow[0],
      fullRow[1],
      col("extra", "integer", 23, "5"),
    ].join(",")}],"identity":[{"name":"id","type":"integer","typeoid":23,"value":1}],${PK}}`;
    expect(asRow(decode(decoder, update)).after).toStrictEqual({
      id: 1,
      n: "99999999.99",
      body: UNCHANGED_TOAST,
      extra: 5,
    });
  });

  it("keys an update by its identity (the old key when the key changed)", () => {
    const decoder = new Wal2JsonDecoder();
    const update = `{"action":"U","xid":732,"lsn":"0/1535700","schema":"public","table":"t","columns":[${col("id", "integer", 23, "2")}],"identity":[{"name":"id","type":"integer","typeoid":23,"value":1}],${PK}}`;
    const row = asRow(decode(decoder, update));
    expect(row.key).toStrictEqual({ id: 1 });
    expect(row.after).toStrictEqual({ id: 2 });
  });

  it("decodes a delete: identity as key and before, the table's known columns when it has seen them", () => {
    const decoder = new Wal2JsonDecoder();
    const del = `{"action":"D","xid":737,"lsn":"0/1535F38","schema":"public","table":"t","identity":[{"name":"id","type":"integer","typeoid":23,"value":2}],${PK}}`;
    const before = asRow(decode(decoder, del));
    expect(before).toStrictEqual({
      kind: "row",
      op: "delete",
      table: { schema: "public", name: "t" },
      columns: [{ name: "id", typeOid: 23, typeName: "int4", typeMod: -1, isKey: true }],
      key: { id: 2 },
      before: { id: 2 },
      after: null,
    });
    decode(decoder, insertLine(fullRow));
    expect(asRow(decode(decoder, del)).columns.map((c) => [c.name, c.isKey])).toEqual([
      ["id", true],
      ["n", false],
      ["body", false],
      ["big", false],
    ]);
  });

  it("gives REPLICA IDENTITY FULL deletes the whole old row", () => {
    const del = `{"action":"D","xid":735,"lsn":"0/1535E50","schema":"public","table":"fullt","identity":[{"name":"id","type":"integer","typeoid":23,"value":1},{"name":"v","type":"text","typeoid":25,"value":"b"}],"pk":[]}`;
    const row = asRow(decode(new Wal2JsonDecoder(), del));
    expect(row.before).toStrictEqual({ id: 1, v: "b" });
    expect(row.key).toStrictEqual({ id: 1, v: "b" });
  });

  it("decodes each truncated table as its own truncate (wal2json drops CASCADE/RESTART IDENTITY)", () => {
    const line = `{"action":"T","xid":738,"lsn":"0/1537348","schema":"public","table":"fullt"}`;
    expect(decode(new Wal2JsonDecoder(), line)).toStrictEqual({
      kind: "truncate",
      tables: [{ schema: "public", name: "fullt" }],
      cascade: false,
      restartIdentity: false,
    });
  });

  it("decodes logical messages, transactional or not", () => {
    const decoder = new Wal2JsonDecoder();
    expect(
      decode(
        decoder,
        `{"action":"M","xid":730,"lsn":"0/1535088","transactional":true,"prefix":"pfx","content":"h\\u00e9llo"}`,
      ),
    ).toStrictEqual({
      kind: "message",
      transactional: true,
      lsn: 0x1535088n,
      prefix: "pfx",
      content: Buffer.from("héllo"),
    });
    expect(
      decode(decoder, `{"action":"M","xid":null,"lsn":"0/15350F8","transactional":false,"prefix":"hb","content":""}`),
    ).toMatchObject({ transactional: false, content: Buffer.alloc(0) });
  });

  it.each([
    ["an unknown action", `{"action":"X"}`, "X", /unsupported action/],
    ["a Begin without lsn", `{"action":"B","xid":1,"timestamp":"2024-01-01 00:00:00+00"}`, "B", /include-lsn/],
    ["a Begin without timestamp", `{"action":"B","xid":1,"lsn":"0/1"}`, "B", /include-timestamp/],
    ["an insert without pk", `{"action":"I","schema":"s","table":"t","columns":[]}`, "I", /include-pk/],
    [
      "a column without typeoid",
      `{"action":"I","schema":"s","table":"t","columns":[{"name":"a","value":1}],"pk":[]}`,
      "I",
      /include-type-oids/,
    ],
    ["broken JSON", `{"action":"B",`, "", /invalid|expected|unexpected/],
    ["a JSON array", `[1]`, "", /not a JSON object/],
  ])("refuses %s with a DecodeError", (_name, line, tag, reason) => {
    const error = decodeError(() => decode(new Wal2JsonDecoder(), line));
    expect(error.plugin).toBe("wal2json");
    expect(error.tag).toBe(tag);
    expect(error.message).toMatch(reason);
  });

  it("names the column when a value cannot be read", () => {
    const line = insertLine([col("id", "integer", 23, "1"), col("b", "bytea", 17, '"xyz"')]);
    const error = decodeError(() => decode(new Wal2JsonDecoder(), line));
    expect(error.context).toMatchObject({ table: "public.t", column: "b" });
  });

  it("asks wal2json for format 2 with everything the decoder needs, and escapes add-tables", () => {
    expect(WAL2JSON_START_OPTIONS).toMatchObject({
      "format-version": "2",
      "include-transaction": "true",
      "include-xids": "true",
      "include-timestamp": "true",
      "include-lsn": "true",
      "include-type-oids": "true",
      "include-pk": "true",
    });
    expect(wal2jsonStartOptions()["add-tables"]).toBeUndefined();
    expect(
      wal2jsonStartOptions([
        { schema: "public", name: "permits" },
        { schema: "odd.schema", name: "a,b* c\\d" },
      ])["add-tables"],
    ).toBe("public.permits,odd\\.schema.a\\,b\\*\\ c\\\\d");
  });
});
