// COBOL pictures: parsing every accepted form, and the IBM zoned, packed and binary bytes of edge values.
import { describe, expect, it } from "vitest";
import { parseDecimalText } from "../../src/mapping/decimal.js";
import {
  binaryBytes,
  type NumericPicture,
  packedBytes,
  parsePicture,
  pictureByteLength,
  readPacked,
  readZoned,
  zonedText,
} from "../../src/mapping/pic.js";

function numeric(text: string): NumericPicture {
  const p = parsePicture(text);
  if (p.kind !== "numeric") throw new Error(`${text} is not numeric`);
  return p;
}

function decimal(text: string) {
  const d = parseDecimalText(text);
  if (!d) throw new Error(`${text} is not a decimal`);
  return d;
}

describe("parsePicture", () => {
  it.each([
    ["X(10)", { kind: "alphanumeric", length: 10 }, 10],
    ["XXX", { kind: "alphanumeric", length: 3 }, 3],
    ["x(2)X", { kind: "alphanumeric", length: 3 }, 3],
    ["9(5)", { kind: "numeric", signed: false, integerDigits: 5, fractionDigits: 0, usage: "display" }, 5],
    ["999", { kind: "numeric", signed: false, integerDigits: 3, fractionDigits: 0, usage: "display" }, 3],
    ["9(7)V99", { kind: "numeric", signed: false, integerDigits: 7, fractionDigits: 2, usage: "display" }, 9],
    ["S9(7)V99", { kind: "numeric", signed: true, integerDigits: 7, fractionDigits: 2, usage: "display" }, 9],
    ["S9(7)V9(2) COMP-3", { kind: "numeric", signed: true, integerDigits: 7, fractionDigits: 2, usage: "packed" }, 5],
    ["s9(7)v99 comp-3", { kind: "numeric", signed: true, integerDigits: 7, fractionDigits: 2, usage: "packed" }, 5],
    [
      "S9(6)V99 PACKED-DECIMAL",
      { kind: "numeric", signed: true, integerDigits: 6, fractionDigits: 2, usage: "packed" },
      5,
    ],
    ["9(4) COMP-3", { kind: "numeric", signed: false, integerDigits: 4, fractionDigits: 0, usage: "packed" }, 3],
    ["SV99", { kind: "numeric", signed: true, integerDigits: 0, fractionDigits: 2, usage: "display" }, 2],
    ["S9(4) COMP", { kind: "numeric", signed: true, integerDigits: 4, fractionDigits: 0, usage: "binary" }, 2],
    [
      "9(9) USAGE IS BINARY",
      { kind: "numeric", signed: false, integerDigits: 9, fractionDigits: 0, usage: "binary" },
      4,
    ],
    ["S9(18) COMP-4", { kind: "numeric", signed: true, integerDigits: 18, fractionDigits: 0, usage: "binary" }, 8],
    ["9(31)", { kind: "numeric", signed: false, integerDigits: 31, fractionDigits: 0, usage: "display" }, 31],
  ])("%s", (text, shape, bytes) => {
    const p = parsePicture(text);
    expect(p).toMatchObject(shape);
    expect(pictureByteLength(p)).toBe(bytes);
  });

  it.each([
    ["", /empty/],
    ["X(0)", /repeat count/],
    ["X(", /repeat count/],
    ["9(a)", /repeat count/],
    ["Z(5)9", /unsupported symbol "Z"/],
    ["9(5).99", /unsupported symbol "\."/],
    ["SX(3)", /cannot be mixed/],
    ["X(3)9", /cannot be mixed/],
    ["9V9V9", /twice/],
    ["S", /no digit/],
    ["9(32)", /at most 31/],
    ["9(19) COMP", /at most 18/],
    ["9(5) COMP-9", /unknown usage/],
    ["X(5) COMP-3", /only be DISPLAY/],
  ])("rejects %j", (text, reason) => {
    expect(() => parsePicture(text)).toThrowError(reason);
  });
});

describe("zoned decimal (DISPLAY) text", () => {
  it.each([
    // picture, value, truncate, text — the last digit overpunched: + {ABCDEFGHI, - }JKLMNOPQR
    ["S9(3)V99", "1.5", false, "0015{"],
    ["S9(3)V99", "-1.51", false, "0015J"],
    ["S9(3)V99", "-0", false, "0000{"],
    ["S9(3)V99", "-0.004", false, "0000{"], // rounds to zero, which is positive
    ["S9(3)V99", "0.005", false, "0000A"], // half-up
    ["S9(3)V99", "-0.005", false, "0000J"], // half away from zero
    ["S9(3)V99", "999.99", false, "9999I"],
    ["S9(3)V99", "-999.99", false, "9999R"],
    ["S9(3)V99", "007.10", false, "0071{"],
    ["9(5)", "42", false, "00042"],
    ["9(3)V9(2)", "12.345", false, "01235"],
    ["999", "0", false, "000"],
    ["S9(3)", "12345", true, "34E"], // truncation keeps the low-order digits, as MOVE does
    ["S9(3)", "-1000", true, "00{"], // truncated to 000: zero is always positive
  ])("%s of %s (truncate %s) is %s", (pic, value, truncate, text) => {
    expect(zonedText(numeric(pic), decimal(value), truncate)).toBe(text);
  });

  it.each([
    ["9(3)", "-1", /negative value for unsigned picture 9\(3\)/],
    ["S9(3)V99", "1000", /needs 4 integer digits, picture S9\(3\)V99 holds 3/],
    ["S9(3)V99", "999.995", /needs 4 integer digits/], // rounding carries into a fourth digit
  ])("%s rejects %s", (pic, value, reason) => {
    const result = zonedText(numeric(pic), decimal(value), false);
    expect(result).toEqual({ failure: expect.stringMatching(reason) });
  });

  it.each([
    ["0", "000000{", false, 0n],
    ["-0.01", "000000J", true, 1n],
    ["12345.67", "123456G", false, 1234567n],
    ["-99999.99", "999999R", true, 9999999n],
  ])("reads back %s from %s", (value, text, negative, unscaled) => {
    const p = numeric("S9(5)V99");
    expect(zonedText(p, decimal(value), false)).toBe(text);
    expect(readZoned(p, text)).toEqual({ negative, unscaled, scale: 2 });
  });
});

describe("packed decimal (COMP-3) bytes", () => {
  it.each([
    // Two digits a byte, the sign in the last nibble (C +, D -, F unsigned); an even digit
    // count gets a leading zero nibble.
    ["S9(3)", "123", "123c"],
    ["S9(3)", "-123", "123d"],
    ["9(3)", "123", "123f"],
    ["S9(4)", "1234", "01234c"],
    ["S9(4)", "-1", "00001d"],
    ["S9(5)V99", "-0.00", "0000000c"],
    ["S9(5)V99", "12345.67", "1234567c"],
    ["S9(1)", "7", "7c"],
    ["S9(17)V9(2)", "-12345678901234567.89", "1234567890123456789d"],
    ["S9(15)V9(2)", "99999999.99", "00000009999999999c"],
  ])("%s of %s is %s", (pic, value, bytes) => {
    const p = numeric(`${pic} COMP-3`);
    const out = packedBytes(p, decimal(value), false);
    expect(Buffer.isBuffer(out) ? out.toString("hex") : out).toBe(bytes);
    expect((out as Buffer).length).toBe(pictureByteLength(p));
  });

  it("keeps numeric(12,2) 99999999.99 exact (no float on the way)", () => {
    const p = numeric("S9(10)V99 COMP-3");
    // 12 digits → 13 nibbles with the sign → a leading zero nibble → 7 bytes.
    expect((packedBytes(p, decimal("99999999.99"), false) as Buffer).toString("hex")).toBe("0009999999999c");
  });

  it("truncates high-order digits only when asked", () => {
    const p = numeric("S9(3) COMP-3");
    expect(packedBytes(p, decimal("12345"), false)).toEqual({
      failure: expect.stringMatching(/needs 5 integer digits/),
    });
    expect((packedBytes(p, decimal("12345"), true) as Buffer).toString("hex")).toBe("345c");
  });

  it("reads back its own bytes and rejects a bad sign nibble", () => {
    const p = numeric("S9(5)V99 COMP-3");
    expect(readPacked(p, Buffer.from("1234567d", "hex"))).toEqual({ negative: true, unscaled: 1234567n, scale: 2 });
    expect(readPacked(p, Buffer.from("12345675", "hex"))).toBeUndefined();
  });
});

describe("binary (COMP) bytes", () => {
  it.each([
    ["S9(4) COMP", "-2", "fffe"],
    ["9(4) COMP", "9999", "270f"],
    ["S9(9) COMP", "-123456789", "f8a432eb"],
    ["S9(7)V99 COMP", "1234.56", "0001e240"],
    ["S9(18) COMP", "-1", "ffffffffffffffff"],
    ["9(18) COMP", "999999999999999999", "0de0b6b3a763ffff"],
  ])("%s of %s is %s (big-endian two's complement)", (pic, value, bytes) => {
    const out = binaryBytes(numeric(pic), decimal(value), false);
    expect(Buffer.isBuffer(out) ? out.toString("hex") : out).toBe(bytes);
  });
});
