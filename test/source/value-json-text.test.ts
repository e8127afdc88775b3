// Exact JSON parsing: wal2json lines (numbers kept exact, unescaped type names tolerated) and
// json/jsonb column documents (big integers kept as their digits).
import { describe, expect, it } from "vitest";
import { JsonSyntaxError, parseJsonDocument, parseJsonNumbersAsText } from "../../src/source/json-text.js";

describe("parsing wal2json lines with exact numbers", () => {
  it.each([
    ["small integers stay numbers", '{"xid":730,"typeoid":23,"value":-5}', { xid: 730, typeoid: 23, value: -5 }],
    ["decimals keep their text and scale", '{"value":1.50}', { value: "1.50" }],
    ["16-digit integers keep their text", '{"value":9007199254740993}', { value: "9007199254740993" }],
    ["negative zero keeps its sign", '{"value":-0}', { value: "-0" }],
    ["exponents keep their text", '{"value":1e+300}', { value: "1e+300" }],
    ["numbers inside strings are left alone", '{"value":"12.50","b":"x\\"1.5"}', { value: "12.50", b: 'x"1.5' }],
    ["a string ending in a backslash", '{"a":"x\\\\","b":2.5}', { a: "x\\", b: "2.5" }],
    ["arrays of numbers", "[1,2.0,[3e1]]", [1, "2.0", ["3e1"]]],
    ["literals", '{"t":true,"f":false,"n":null}', { t: true, f: false, n: null }],
    [
      "an unescaped quoted type name",
      '{"type":"My S"."Odd Type","value":1.5}',
      { type: '"My S"."Odd Type"', value: "1.5" },
    ],
    ["a quoted name with a doubled quote", '{"type":"a""b","typeoid":1}', { type: '"a""b"', typeoid: 1 }],
    ["a quoted schema and plain name", '{"type":"My S".mood}', { type: '"My S".mood' }],
  ])("%s", (_name, text, expected) => {
    expect(parseJsonNumbersAsText(text)).toStrictEqual(expected);
  });

  it("reports malformed text with its position", () => {
    expect(() => parseJsonNumbersAsText('{"a":}')).toThrow(JsonSyntaxError);
    try {
      parseJsonNumbersAsText('{"a":1,}');
    } catch (error) {
      expect((error as JsonSyntaxError).position).toBe(7);
    }
  });
});

describe("parsing json/jsonb column documents", () => {
  it.each([
    ["plain document through the native parser", '{"a": [1, 2.5, "x"]}', { a: [1, 2.5, "x"] }],
    ["an integer beyond 2^53 keeps its digits", "[12345678901234567890]", ["12345678901234567890"]],
    ["a safe 16-digit integer stays a number", "[1234567890123456]", [1234567890123456]],
    ["a long decimal stays a number (as close as a double gets)", "[0.1234567890123456789]", [0.12345678901234568]],
    ["a number beyond the double range keeps its text", "[1e400, -1e400]", ["1e400", "-1e400"]],
    ["digits inside strings do not matter", '{"card": "12345678901234567890"}', { card: "12345678901234567890" }],
    ["escapes in the exact parser", '["\\u00e9\\t\\/", 99999999999999999]', ["é\t/", "99999999999999999"]],
  ])("%s", (_name, text, expected) => {
    expect(parseJsonDocument(text)).toStrictEqual(expected);
  });
});
