// The text form in which a streamed transaction's changes wait for its commit: every value comes back with its type.
import { describe, expect, it } from "vitest";
import type { LogicalMessage, RowChangeMessage, TruncateMessage } from "../../src/change/change.js";
import { ChangeCodecError, decodeChange, encodeChange } from "../../src/change/message-codec.js";
import { PgDate, PgJson, PgTimestamp, PgTimestampTz, UNCHANGED_TOAST } from "../../src/change/value.js";

describe("change codec", () => {
  it("keeps every kind of value exactly", () => {
    const row: RowChangeMessage = {
      kind: "row",
      op: "update",
      table: { schema: "public", name: "permits" },
      columns: [],
      key: { id: 9007199254740993n },
      before: { id: 9007199254740993n, note: "a\u0000b\ud800" },
      after: {
        id: 9007199254740993n,
        amount: "99999999.99",
        ratio: 0.1,
        inf: Number.POSITIVE_INFINITY,
        nan: Number.NaN,
        ok: true,
        none: null,
        bytes: Buffer.from([0, 255, 10]),
        day: new PgDate("2024-02-29"),
        local: new PgTimestamp("2024-05-04T12:00:00.000001"),
        instant: new PgTimestampTz("2024-05-04T12:00:00.000001Z"),
        doc: new PgJson({ n: [1, "x", null], d: { i: "not a bigint" } }),
        big: UNCHANGED_TOAST,
        tags: [["a", null], ["b,c"]],
      },
    };
    const text = encodeChange(row);
    expect(text).not.toContain("\u0000");
    const back = decodeChange(text) as RowChangeMessage;
    expect(back).toStrictEqual(row);
    expect(back.after?.big).toBe(UNCHANGED_TOAST);
  });

  it("keeps truncates and messages", () => {
    const truncate: TruncateMessage = {
      kind: "truncate",
      tables: [
        { schema: "public", name: "a" },
        { schema: "x y", name: "b" },
      ],
      cascade: true,
      restartIdentity: false,
    };
    expect(decodeChange(encodeChange(truncate))).toStrictEqual(truncate);
    const message: LogicalMessage = {
      kind: "message",
      transactional: true,
      lsn: 0xffff_ffff_0000n,
      prefix: "ess.event",
      content: Buffer.from('{"topic":"t"}'),
    };
    expect(decodeChange(encodeChange(message))).toStrictEqual(message);
  });

  it("refuses text it did not write", () => {
    expect(() => decodeChange("{")).toThrow(ChangeCodecError);
    expect(() => decodeChange('{"k":"row","op":"merge"}')).toThrow(/unknown op/);
    expect(() => decodeChange('{"k":"row","op":"insert","key":{"id":{"q":1}}}')).toThrow(/no tagged value/);
  });
});
