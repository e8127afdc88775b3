// Every formatter, table-driven, through a compiled mapping: edge values, NULL, multibyte text and the errors a record can hit.
import { describe, expect, it } from "vitest";
import { PgDate, PgJson, PgTimestamp, PgTimestampTz, type Row, UNCHANGED_TOAST } from "../../src/change/value.js";
import type { FieldSpec } from "../../src/config/types.js";
import { compileMapping, MappingError } from "../../src/mapping/index.js";
import {
  CONTEXT,
  connectorMap,
  mappingConfig,
  restConnector,
  sftpConnector,
  targetConfig,
} from "./mapping-builders.js";

/** The field's value in a JSON record (a string after any formatter). */
function json(spec: FieldSpec, row: Row, options: { timezone?: string; pii?: string[] } = {}): unknown {
  const mapping = mappingConfig([targetConfig("gis", "json", { F: spec })], options);
  const result = compileMapping(mapping, connectorMap(restConnector("gis")));
  expect(result.errors.map((e) => e.message)).toEqual([]);
  const record = JSON.parse(result.mapping!.targets[0]!.render(row, CONTEXT).toString("utf8")) as Record<
    string,
    unknown
  >;
  return record.F;
}

/** The field's text in an ASCII fixed-width record without terminator. */
function fixed(spec: FieldSpec, row: Row, overflow: "error" | "truncate" = "error"): string {
  const mapping = mappingConfig([targetConfig("drop", "fixed-width", { F: spec }, { terminator: "none", overflow })], {
    timezone: "America/New_York",
  });
  const result = compileMapping(mapping, connectorMap(sftpConnector("drop", "latin1")));
  expect(result.errors.map((e) => e.message)).toEqual([]);
  return result.mapping!.targets[0]!.render(row, CONTEXT).toString("latin1");
}

describe("text formatters", () => {
  it.each([
    ["v | upper", "abc", "ABC"],
    ["v | upper", "josé", "JOSÉ"],
    ["v | upper", "straße", "STRASSE"],
    ["v | upper", 42, "42"],
    ["v | upper", null, null],
    ["v | lower", "APPROVED", "approved"],
    ["v | lower", "ÉCOLE", "école"],
    ["v | trim", "  a b \t\n", "a b"],
    ["v | trim", "", ""],
    ["v | trim | upper", " x ", "X"],
  ])("%s of %j is %j", (spec, value, expected) => {
    expect(json(spec, { v: value })).toBe(expected);
  });
});

describe("width, lpad and rpad", () => {
  it.each([
    ["v | width:5", "abc", "abc  "],
    ["v | width:5", "abcde", "abcde"],
    ["v | width:5", "007", "007  "],
    ["v | width:5", null, "     "],
    ["v | width:5", "", "     "],
    ["v | width:4", "José", "José"],
    ["v | lpad:5,0", "42", "00042"],
    ["v | lpad:5,0", -4, "000-4"],
    ["v | lpad:5", "42", "   42"],
    ["v | rpad:5,x", "42", "42xxx"],
    ["v | lpad:4,,", "42", ",,42"],
    ["v | lpad:4,' '", "42", "  42"],
    ["v | lpad:3,0", null, "000"],
    ["v | width:10 | upper", "abc", "ABC       "],
    ["v | width:6 | trim", "  ab", "ab    "],
    [{ from: "v", width: 6, align: "right", pad: "0" }, "123", "000123"],
    [{ from: "v", width: 6 }, "123", "123   "],
    [{ from: "v", width: 6, format: "upper | trim" }, " ab ", "AB    "],
    [{ const: "HDR", width: 5 }, "ignored", "HDR  "],
  ] as const)("%j of %j is %j", (spec, value, expected) => {
    expect(fixed(spec, { v: value })).toBe(expected);
  });

  it.each([
    ["v | width:5", "abcdefg", "abcde"],
    ["v | rpad:3", "abcdefg", "abc"],
    ["v | lpad:3,0", "12345", "345"],
    [{ from: "v", width: 3, align: "right" }, "12345", "345"],
  ] as const)("%j truncates %j to %j with overflow: truncate", (spec, value, expected) => {
    expect(fixed(spec, { v: value }, "truncate")).toBe(expected);
  });

  it.each(["v | width:5", "v | lpad:5,0", "v | rpad:5", "v | pic:X(5)"])(
    "%s fails a 6-character value with overflow: error",
    (spec) => {
      expect(() => fixed(spec, { v: "abcdef" })).toThrowError(
        expect.objectContaining({ field: "F", reason: "6 characters do not fit width 5 (overflow: error)" }),
      );
    },
  );
});

describe("number:D", () => {
  it.each([
    ["number:2", "1234.5", "1234.50"],
    ["number:2", "99999999.99", "99999999.99"],
    ["number:2", "12345678901234567890.125", "12345678901234567890.13"],
    ["number:2", "-0", "0.00"],
    ["number:2", "-0.001", "0.00"],
    ["number:2", "0.005", "0.01"],
    ["number:2", "-0.005", "-0.01"],
    ["number:2", "007", "7.00"],
    ["number:2", "1e3", "1000.00"],
    ["number:2", 1.005, "1.01"],
    ["number:2", 12n, "12.00"],
    ["number:0", "2.5", "3"],
    ["number:0", "-2.5", "-3"],
    ["number:0", "-0.4", "0"],
    ["number:3", " 1.5 ", "1.500"],
    ["default:0 | number:2", null, "0.00"],
  ] as const)("%s of %s is %s", (formatters, value, expected) => {
    expect(fixed(`v | ${formatters} | width:24`, { v: value }).trimEnd()).toBe(expected);
  });

  it("is a number in JSON, every digit kept", () => {
    const mapping = mappingConfig([targetConfig("gis", "json", { F: "v | number:2" })]);
    const target = compileMapping(mapping, connectorMap(restConnector("gis"))).mapping!.targets[0]!;
    expect(target.render({ v: "12345678901234567.10" }, CONTEXT).toString()).toBe('{"F":12345678901234567.10}');
  });

  it.each([
    [null, /NULL where number:2 needs a number/],
    ["abc", /not a finite decimal number/],
    ["NaN", /not a finite decimal number/],
    [Number.POSITIVE_INFINITY, /not a finite decimal number/],
    [true, /not a finite decimal number/],
  ])("fails %j", (value, reason) => {
    expect(() => json("v | number:2", { v: value })).toThrowError(reason);
  });
});

describe("format:<strftime>", () => {
  it.each([
    // PgDate and PgTimestamp are wall times: no conversion.
    [new PgDate("2025-04-12"), "%Y%m%d", "20250412"],
    // 44 BC is year -43 in ISO 8601's astronomical numbering.
    [new PgDate("0044-03-15 BC"), "%Y-%m-%d", "-0043-03-15"],
    [new PgTimestamp("2025-04-12T23:30:00.123456"), "%Y%m%d %H%M %f", "20250412 2330 123456"],
    [new PgTimestamp("2025-01-12T23:30:00"), "%H:%M%z", "23:30-0500"],
    // The repeated hour when clocks fall back reads as the first (daylight) one.
    [new PgTimestamp("2025-11-02T01:30:00"), "%H:%M%z %Z", "01:30-0400 EDT"],
    [new PgTimestamp("2025-11-02T03:30:00"), "%H:%M%z %Z", "03:30-0500 EST"],
    // PgTimestampTz is an instant: converted to the mapping's zone.
    [new PgTimestampTz("2025-04-13T03:30:00Z"), "%Y%m%d %H%M", "20250412 2330"],
    [new PgTimestampTz("2025-04-13T03:30:00.5Z"), "%S.%f", "00.500000"],
    // ISO strings: with a zone they are instants, without they are wall times.
    ["2025-04-12T23:30:00+02:00", "%Y%m%d %H%M", "20250412 1730"],
    ["2025-04-12 23:30:00+0530", "%H%M", "1400"],
    ["2025-04-12T23:30", "%Y%m%d %H%M", "20250412 2330"],
    ["2025-04-12", "%d.%m.%Y", "12.04.2025"],
    [null, "%Y%m%d", null],
  ])("%j with %s", (value, pattern, expected) => {
    expect(json(`v | format:${pattern}`, { v: value }, { timezone: "America/New_York" })).toBe(expected);
  });

  it.each([
    ["infinity", /infinity has no calendar date/],
    [new PgTimestampTz("-infinity"), /-infinity has no calendar date/],
    [12345, /not a date or timestamp/],
    ["12/04/2025", /not an ISO 8601 date/],
    ["2025-13-01", /not a valid calendar date/],
    ["2025-02-29", /not a valid calendar date/],
    ["2025-04-12T24:00:00", /not a valid calendar date/],
  ])("fails %j", (value, reason) => {
    expect(() => json("v | format:%Y", { v: value })).toThrowError(reason);
  });

  it("sets the width of a fixed-width field, NULL as spaces", () => {
    expect(fixed("v | format:%Y%m%d", { v: null })).toBe("        ");
    expect(fixed("v | format:%Y%m%d", { v: new PgDate("2025-04-12") })).toBe("20250412");
    expect(fixed("v | format:%d.%m. | upper", { v: new PgDate("2025-04-12") })).toBe("12.04.");
  });

  it("fails a year that does not fit the pattern's width", () => {
    expect(() => fixed("v | format:%Y%m%d", { v: new PgDate("0044-03-15 BC") })).toThrowError(
      /9 characters do not fit width 8/,
    );
  });
});

describe("pic: in a record", () => {
  it.each([
    ["v | pic:X(6)", "José", "José  "],
    ["v | pic:X(3)", null, "   "],
    ["v | pic:9(5)", "42", "00042"],
    ["v | pic:9(3)V99", "1.5", "00150"],
    ["v | pic:S9(3)V99", "-1.5", "0015}"],
    ["v | pic:999", 7, "007"],
    ["v | default:0 | pic:9(3)", null, "000"],
  ])("%s of %j is %s", (spec, value, expected) => {
    expect(fixed(spec, { v: value })).toBe(expected);
  });

  it.each([
    ["v | pic:9(3)", null, /NULL where pic:9\(3\) needs a number/],
    ["v | pic:9(3)", "-1", /negative value for unsigned picture/],
    ["v | pic:9(3)", "1000", /needs 4 integer digits/],
    ["v | pic:9(3)", "x", /not a finite decimal number/],
  ])("%s fails %j", (spec, value, reason) => {
    expect(() => fixed(spec, { v: value })).toThrowError(reason);
  });
});

describe("map, default, const", () => {
  it.each([
    ["v | map:APPROVED=A,DENIED=D", "APPROVED", "A"],
    ["v | map:APPROVED=A,DENIED=D", null, null],
    ["v | map:APPROVED=A,*=?", "PENDING", "?"],
    ["v | map:a\\,b=1,c\\=d=2", "a,b", "1"],
    ["v | map:a\\,b=1,c\\=d=2", "c=d", "2"],
    ["v | map:true=Y,false=N", true, "Y"],
    ["v | map: 1 = one , 2 = two", 2, "two"],
    ["v | default:N/A", null, "N/A"],
    ["v | default:N/A", "x", "x"],
    ["v | default:", null, ""],
    ["missing | default:none", "x", "none"],
    ["v | const:X", "anything", "X"],
    ["v | const:a\\|b", null, "a|b"],
    ["const:BP", "x", "BP"],
    ["const:'  padded  '", "x", "  padded  "],
  ])("%s of %j is %j", (spec, value, expected) => {
    expect(json(spec, { v: value })).toBe(expected);
  });

  it("fails a value the map does not know, listing the known keys", () => {
    expect(() => json("v | map:APPROVED=A,DENIED=D", { v: "PENDING" })).toThrowError(
      expect.objectContaining({
        field: "F",
        reason: "no map entry for this value (known: APPROVED, DENIED; add *=x for a default)",
        valueDescription: '"PENDING"',
      }),
    );
  });
});

describe("mask, hash, drop", () => {
  it.each([
    ["v | mask", "123-45-6789", "*******6789"],
    ["v | mask", "1234", "****"],
    ["v | mask", "12345", "*2345"],
    ["v | mask:0", "123-45-6789", "***********"],
    ["v | mask:2", "東京都庁舎", "***庁舎"],
    ["v | mask", null, null],
    // FIPS 180-2 test vector SHA-256("abc")
    ["v | hash", "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
    // RFC 4231 test case 2: HMAC-SHA-256(key "Jefe", "what do ya want for nothing?")
    [
      "v | hash:Jefe",
      "what do ya want for nothing?",
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    ],
    ["v | hash", null, null],
  ])("%s of %j is %j", (spec, value, expected) => {
    expect(json(spec, { v: value })).toBe(expected);
  });

  it("item 11: hash is HMAC-SHA256 keyed with ess.yaml's hashKey, so the same SSN hashes apart under two keys", () => {
    const hashed = (hashKey: string | undefined, value: string) => {
      const mapping = mappingConfig([targetConfig("gis", "json", { F: "v | hash" })], {});
      const result = compileMapping(mapping, connectorMap(restConnector("gis")), hashKey ? { hashKey } : {});
      expect(result.errors).toEqual([]);
      return JSON.parse(result.mapping!.targets[0]!.render({ v: value }, CONTEXT).toString("utf8")).F as string;
    };
    // The well-known HMAC-SHA256 example: key "key", "The quick brown fox jumps over the lazy dog".
    expect(hashed("key", "The quick brown fox jumps over the lazy dog")).toBe(
      "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8",
    );
    const ssn = "123-45-6789";
    const plain = hashed(undefined, ssn);
    const keyedA = hashed("first-key-of-at-least-16", ssn);
    const keyedB = hashed("second-key-of-at-least-16", ssn);
    expect(new Set([plain, keyedA, keyedB]).size).toBe(3);
    expect(keyedA).toMatch(/^[0-9a-f]{64}$/);
  });

  it("drop leaves the field out of the record", () => {
    const mapping = mappingConfig([targetConfig("gis", "json", { A: "a", SSN: "ssn | drop", B: "b" })], {
      pii: ["ssn"],
    });
    const target = compileMapping(mapping, connectorMap(restConnector("gis"))).mapping!.targets[0]!;
    expect(target.render({ a: 1, ssn: "123-45-6789", b: 2 }, CONTEXT).toString()).toBe('{"A":1,"B":2}');
    expect(target.fieldNames).toEqual(["A", "B"]);
  });

  it("never shows a PII column's value in an error", () => {
    const mapping = mappingConfig([targetConfig("drop", "fixed-width", { SSN: "ssn | mask | width:4" })], {
      pii: ["ssn"],
    });
    const target = compileMapping(mapping, connectorMap(sftpConnector("drop", "ascii"))).mapping!.targets[0]!;
    let error: unknown;
    try {
      target.render({ ssn: "123-45-6789" }, CONTEXT);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MappingError);
    expect((error as MappingError).valueDescription).toBe("withheld (PII column)");
    expect((error as MappingError).message).not.toMatch(/6789/);
  });
});

describe("source values", () => {
  it.each([
    ["_op", "update"],
    ["_token", "tok-7f3a"],
    ["_correlation_id", "corr-0001"],
    ["_commit_time | format:%Y%m%d%H%M%S", "20250412140300"],
    ["_mapping", "permit_status"],
    ["_connector", "gis"],
    ["_source", "public.permits"],
  ])("pseudo-column %s is %j", (spec, expected) => {
    expect(json(spec, {})).toBe(expected);
  });

  it.each([
    ["text", { v: "text" }, "text"],
    ["int4", { v: 7 }, 7],
    ["bool", { v: true }, true],
    ["NULL", { v: null }, null],
    ["a column the row lacks", {}, null],
    ["jsonb", { v: new PgJson({ a: [1, "x"] }) }, { a: [1, "x"] }],
    ["an array", { v: ["a", null, 3] }, ["a", null, 3]],
    ["timestamptz", { v: new PgTimestampTz("2025-04-12T14:03:00Z") }, "2025-04-12T14:03:00Z"],
    ["bytea", { v: Buffer.from([0xde, 0xad]) }, "\\xdead"],
    ["float8 NaN", { v: Number.NaN }, "NaN"],
  ])("a bare column in JSON keeps its type: %s", (_name, row, expected) => {
    expect(json("v", row)).toEqual(expected);
  });

  it("writes an int8 into JSON with all its digits", () => {
    const mapping = mappingConfig([targetConfig("gis", "json", { F: "v" })]);
    const target = compileMapping(mapping, connectorMap(restConnector("gis"))).mapping!.targets[0]!;
    expect(target.render({ v: 9007199254740993n }, CONTEXT).toString()).toBe('{"F":9007199254740993}');
  });

  it.each([
    [["a", "b c", null], '{a,"b c",NULL}'],
    [Buffer.from("hi"), "\\x6869"],
    [false, "false"],
  ])("formats %j by its PostgreSQL text form", (value, expected) => {
    expect(json("v | trim", { v: value as Row[string] })).toBe(expected);
  });

  it("fails an unchanged TOAST value instead of sending it as empty", () => {
    expect(() => json("v | upper", { v: UNCHANGED_TOAST })).toThrowError(/REPLICA IDENTITY FULL/);
  });
});
