// Golden conversions from PostgreSQL's text (as printed under REPLICATION_SESSION_SETTINGS; each
// input below was printed by a PostgreSQL 15 server) to ESS's typed values.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PgDate, PgJson, PgTimestamp, PgTimestampTz, type Value } from "../../src/change/value.js";
import { ValueConversionError } from "../../src/source/decode-error.js";
import { timestamptzToDate, timestamptzToUtcIso } from "../../src/source/pg-datetime-text.js";
import { convertText } from "../../src/source/value-conversion.js";

// A user-defined enum and its array type: OIDs are per database, so the name decides.
const MOOD = 16385;
const MOOD_ARRAY = 16384;

const cases: readonly (readonly [string, number, string, string, Value])[] = [
  ["int2 minimum", 21, "int2", "-32768", -32768],
  ["int4 maximum", 23, "int4", "2147483647", 2147483647],
  ["oid above int4 range", 26, "oid", "4294967295", 4294967295],
  ["int8 beyond 2^53 stays exact", 20, "int8", "9007199254740993", 9007199254740993n],
  ["int8 minimum", 20, "int8", "-9223372036854775808", -9223372036854775808n],
  ["numeric negative zero (PostgreSQL prints 0.0)", 1700, "numeric", "0.0", "0.0"],
  ["numeric 99999999.99", 1700, "numeric", "99999999.99", "99999999.99"],
  ["numeric keeps trailing zeros", 1700, "numeric", "1.50", "1.50"],
  [
    "numeric beyond any float",
    1700,
    "numeric",
    "123456789012345678901234567890.123456789",
    "123456789012345678901234567890.123456789",
  ],
  ["numeric tiny", 1700, "numeric", "0.000000000000000000000000000001", "0.000000000000000000000000000001"],
  ["numeric NaN stays a string", 1700, "numeric", "NaN", "NaN"],
  ["numeric -Infinity stays a string", 1700, "numeric", "-Infinity", "-Infinity"],
  ["float8 negative zero", 701, "float8", "-0", -0],
  ["float8 0.1", 701, "float8", "0.1", 0.1],
  ["float8 1e+300", 701, "float8", "1e+300", 1e300],
  ["float8 NaN", 701, "float8", "NaN", Number.NaN],
  ["float8 Infinity", 701, "float8", "Infinity", Number.POSITIVE_INFINITY],
  ["float8 -Infinity", 701, "float8", "-Infinity", Number.NEGATIVE_INFINITY],
  ["float4 shortest exact text", 700, "float4", "1.5e-07", 1.5e-7],
  ["bool true", 16, "bool", "t", true],
  ["bool false", 16, "bool", "f", false],
  ["text with quotes and accents", 25, "text", 'héllo, "world"', 'héllo, "world"'],
  ["varchar", 1043, "varchar", "abc", "abc"],
  ["bpchar keeps its padding", 1042, "bpchar", "ab ", "ab "],
  ["name", 19, "name", "permits", "permits"],
  ["uuid", 2950, "uuid", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"],
  ["date", 1082, "date", "2024-02-29", new PgDate("2024-02-29")],
  ["date BC", 1082, "date", "0044-03-15 BC", new PgDate("0044-03-15 BC")],
  ["date infinity", 1082, "date", "infinity", new PgDate("infinity")],
  ["date -infinity", 1082, "date", "-infinity", new PgDate("-infinity")],
  ["time", 1083, "time", "12:00:00", "12:00:00"],
  ["timetz", 1266, "timetz", "12:00:00.123+05:30", "12:00:00.123+05:30"],
  ["interval (iso_8601)", 1186, "interval", "P1Y2M3DT4H5M6.7S", "P1Y2M3DT4H5M6.7S"],
  ["negative interval", 1186, "interval", "P-1D", "P-1D"],
  ["timestamp whole seconds", 1114, "timestamp", "2024-01-02 03:04:05", new PgTimestamp("2024-01-02T03:04:05")],
  [
    "timestamp fraction as printed",
    1114,
    "timestamp",
    "2024-01-02 03:04:05.5",
    new PgTimestamp("2024-01-02T03:04:05.5"),
  ],
  [
    "timestamp microseconds",
    1114,
    "timestamp",
    "2024-01-02 03:04:05.123456",
    new PgTimestamp("2024-01-02T03:04:05.123456"),
  ],
  [
    "timestamp BC",
    1114,
    "timestamp",
    "0044-03-15 03:04:05.000001 BC",
    new PgTimestamp("0044-03-15T03:04:05.000001 BC"),
  ],
  ["timestamp five-digit year", 1114, "timestamp", "10000-01-01 00:00:00", new PgTimestamp("10000-01-01T00:00:00")],
  ["timestamp infinity", 1114, "timestamp", "infinity", new PgTimestamp("infinity")],
  [
    "timestamptz in UTC",
    1184,
    "timestamptz",
    "2024-01-01 21:34:05.123456+00",
    new PgTimestampTz("2024-01-01T21:34:05.123456Z"),
  ],
  [
    "timestamptz east of UTC",
    1184,
    "timestamptz",
    "2024-01-02 08:34:05.123456+05:30",
    new PgTimestampTz("2024-01-02T03:04:05.123456Z"),
  ],
  [
    "timestamptz west of UTC across midnight",
    1184,
    "timestamptz",
    "2024-01-01 23:34:05.123456-03:30",
    new PgTimestampTz("2024-01-02T03:04:05.123456Z"),
  ],
  [
    "timestamptz local mean time offset with seconds",
    1184,
    "timestamptz",
    "1800-01-01 05:53:28+05:53:28",
    new PgTimestampTz("1800-01-01T00:00:00Z"),
  ],
  ["timestamptz leap day", 1184, "timestamptz", "2024-03-01 00:30:00+01", new PgTimestampTz("2024-02-29T23:30:00Z")],
  ["timestamptz BC", 1184, "timestamptz", "0044-03-15 01:04:05+00 BC", new PgTimestampTz("0044-03-15T01:04:05Z BC")],
  [
    "timestamptz BC shifted",
    1184,
    "timestamptz",
    "0044-03-15 06:57:33+05:53:28 BC",
    new PgTimestampTz("0044-03-15T01:04:05Z BC"),
  ],
  [
    "timestamptz shifted from 1 AD into 1 BC",
    1184,
    "timestamptz",
    "0001-01-01 00:30:00+01",
    new PgTimestampTz("0001-12-31T23:30:00Z BC"),
  ],
  [
    "timestamptz shifted from 1 BC into 2 BC",
    1184,
    "timestamptz",
    "0001-01-01 00:30:00+01 BC",
    new PgTimestampTz("0002-12-31T23:30:00Z BC"),
  ],
  ["timestamptz -infinity", 1184, "timestamptz", "-infinity", new PgTimestampTz("-infinity")],
  [
    "json with nested objects; integers beyond 2^53 keep their digits",
    114,
    "json",
    '{"a": {"b": [1, 2.5, 12345678901234567890]}, "s": "xé"}',
    new PgJson({ a: { b: [1, 2.5, "12345678901234567890"] }, s: "xé" }),
  ],
  ["jsonb out of double range", 3802, "jsonb", '{"a": 1e400}', new PgJson({ a: "1e400" })],
  [
    "json safe and unsafe integers",
    114,
    "json",
    "[9007199254740991, -9007199254740993, 1.0000000000000002]",
    new PgJson([9007199254740991, "-9007199254740993", 1.0000000000000002]),
  ],
  ["json null document", 3802, "jsonb", "null", new PgJson(null)],
  ["json string document with escapes", 114, "json", '"a\\"b\\u00e9\\n"', new PgJson('a"bé\n')],
  ["bytea empty", 17, "bytea", "\\x", Buffer.alloc(0)],
  ["bytea hex", 17, "bytea", "\\x00ff10", Buffer.from([0x00, 0xff, 0x10])],
  ["bytea escape format", 17, "bytea", "a\\000\\\\", Buffer.from([0x61, 0x00, 0x5c])],
  ["int4[] with NULL", 1007, "_int4", "{1,NULL,3}", [1, null, 3]],
  [
    "text[] with commas, quotes, NULL, 'NULL', empty and spaces",
    1009,
    "_text",
    '{"a,b","c\\"d",NULL,"NULL","","x y"}',
    ["a,b", 'c"d', null, "NULL", "", "x y"],
  ],
  ["text[] with a backslash", 1009, "_text", '{"back\\\\slash"}', ["back\\slash"]],
  [
    "nested int8[][]",
    1016,
    "_int8",
    "{{1,2},{3,4}}",
    [
      [1n, 2n],
      [3n, 4n],
    ],
  ],
  ["nested text[][] with NULL", 1009, "_text", "{{a},{NULL}}", [["a"], [null]]],
  ["array with lower bound decoration", 1007, "_int4", "[0:1]={1,2}", [1, 2]],
  ["empty array", 1007, "_int4", "{}", []],
  ["bytea[]", 1001, "_bytea", '{"\\\\x00ff","\\\\x"}', [Buffer.from([0x00, 0xff]), Buffer.alloc(0)]],
  ["jsonb[]", 3807, "_jsonb", '{"{\\"a\\": 1}"}', [new PgJson({ a: 1 })]],
  ["timestamptz[]", 1185, "_timestamptz", '{"2024-01-01 00:00:00+00"}', [new PgTimestampTz("2024-01-01T00:00:00Z")]],
  ["date[] with NULL", 1182, "_date", "{2024-01-01,NULL}", [new PgDate("2024-01-01"), null]],
  ["bool[]", 1000, "_bool", "{t,f}", [true, false]],
  ["float8[] special values", 1022, "_float8", "{NaN,-Infinity}", [Number.NaN, Number.NEGATIVE_INFINITY]],
  ["numeric[]", 1231, "_numeric", "{1.50,NaN}", ["1.50", "NaN"]],
  ["box[] uses ';' between elements", 1020, "_box", "{(1,1),(0,0);(2,2),(1,1)}", ["(1,1),(0,0)", "(2,2),(1,1)"]],
  ["enum keeps its text", MOOD, "mood", "happy", "happy"],
  ["enum array", MOOD_ARRAY, "_mood", "{happy,sad}", ["happy", "sad"]],
  ["inet keeps its text", 869, "inet", "192.168.0.1/24", "192.168.0.1/24"],
  ["int4range keeps its text", 3904, "int4range", "[1,5)", "[1,5)"],
  ["point keeps its text", 600, "point", "(1,2)", "(1,2)"],
];

describe("value conversion from PostgreSQL text", () => {
  it.each(cases)("%s", (_name, oid, typeName, text, expected) => {
    expect(convertText(text, oid, typeName)).toStrictEqual(expected);
  });

  it("keeps a json member named __proto__ as data", () => {
    const value = convertText('{"__proto__": {"x": 1}}', 3802, "jsonb");
    expect(value).toBeInstanceOf(PgJson);
    const doc = (value as PgJson).value as Record<string, unknown>;
    expect(Object.keys(doc)).toEqual(["__proto__"]);
    expect(Object.getPrototypeOf(doc)).toBe(Object.prototype);
  });

  const malformed: readonly (readonly [string, number, string, string])[] = [
    ["unterminated array", 1007, "_int4", "{1,2"],
    ["array with trailing text", 1007, "_int4", "{1}x"],
    ["array without braces", 1009, "_text", "a,b"],
    ["unterminated quoted element", 1009, "_text", '{"abc}'],
    ["timestamptz without offset", 1184, "timestamptz", "2024-01-01 00:00:00"],
    ["timestamptz garbage", 1184, "timestamptz", "yesterday"],
    ["timestamp garbage", 1114, "timestamp", "soon"],
    ["bytea with non-hex digits", 17, "bytea", "\\xzz"],
    ["bytea with odd digit count", 17, "bytea", "\\x0"],
    ["bool other than t/f", 16, "bool", "yes"],
    ["int4 not a number", 23, "int4", "12a"],
    ["int8 not a number", 20, "int8", "1.5"],
    ["float8 not a number", 701, "float8", "fast"],
    ["json syntax error", 114, "json", '{"a": }'],
  ];

  it.each(malformed)("rejects %s with a ValueConversionError naming the type", (_name, oid, typeName, text) => {
    let caught: unknown;
    try {
      convertText(text, oid, typeName);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ValueConversionError);
    expect((caught as ValueConversionError).typeOid).toBe(oid);
    // Values may be personal data: the error names the type, never the text.
    expect((caught as Error).message).not.toContain(text);
  });
});

describe("timestamptz normalisation agrees with JavaScript's own calendar", () => {
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");

  it("for any instant in years 1..9999 printed at any UTC offset", () => {
    fc.assert(
      fc.property(
        // 0001-01-01T00:00:00Z (Date.UTC maps two-digit years to 19xx, so the literal is spelled out).
        fc.integer({ min: -62_135_596_800_000, max: Date.UTC(9999, 11, 31) }),
        fc.integer({ min: -15 * 3600, max: 15 * 3600 }),
        fc.integer({ min: 0, max: 999 }),
        (ms, offset, millis) => {
          const instant = new Date(Math.floor(ms / 1000) * 1000);
          if (instant.getUTCFullYear() < 1) return;
          const local = new Date(instant.getTime() + offset * 1000);
          if (local.getUTCFullYear() < 1 || local.getUTCFullYear() > 9999) return;
          const sign = offset < 0 ? "-" : "+";
          const abs = Math.abs(offset);
          const zone = `${sign}${pad(Math.floor(abs / 3600))}:${pad(Math.floor((abs % 3600) / 60))}:${pad(abs % 60)}`;
          const fraction = `.${pad(millis, 3)}123`;
          const text =
            `${pad(local.getUTCFullYear(), 4)}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())} ` +
            `${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}${fraction}${zone}`;
          const iso = instant.toISOString(); // YYYY-MM-DDTHH:MM:SS.000Z
          expect(timestamptzToUtcIso(text)).toBe(`${iso.slice(0, 19)}${fraction}Z`);
          expect(timestamptzToDate(text).getTime()).toBe(instant.getTime() + millis);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
