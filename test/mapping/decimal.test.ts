// Exact decimal parsing and rounding: the arithmetic under number:D, PIC and batch totals.
import { describe, expect, it } from "vitest";
import { formatFixed, parseDecimalText, rescale, sumDecimals, toDecimal } from "../../src/mapping/decimal.js";

describe("parseDecimalText", () => {
  it.each([
    ["0", { negative: false, unscaled: 0n, scale: 0 }],
    ["-0.00", { negative: false, unscaled: 0n, scale: 2 }],
    ["+12.50", { negative: false, unscaled: 1250n, scale: 2 }],
    [".5", { negative: false, unscaled: 5n, scale: 1 }],
    ["5.", { negative: false, unscaled: 5n, scale: 0 }],
    ["-1.5e-7", { negative: true, unscaled: 15n, scale: 8 }],
    ["2E3", { negative: false, unscaled: 2000n, scale: 0 }],
    ["00042", { negative: false, unscaled: 42n, scale: 0 }],
    ["123456789012345678901234567890.12", { negative: false, unscaled: 12345678901234567890123456789012n, scale: 2 }],
  ])("%s", (text, expected) => {
    expect(parseDecimalText(text)).toEqual(expected);
  });

  it.each(["", "-", ".", "1.2.3", "1,5", "NaN", "Infinity", "0x10", "1e99999", "12abc"])("rejects %j", (text) => {
    expect(parseDecimalText(text)).toBeUndefined();
  });
});

describe("rescale and formatFixed (half-up, away from zero)", () => {
  it.each([
    ["1.005", 2, "1.01"],
    ["-1.005", 2, "-1.01"],
    ["1.0049", 2, "1.00"],
    ["-0.0049", 2, "0.00"],
    ["0.5", 0, "1"],
    ["-0.5", 0, "-1"],
    ["99999999.995", 2, "100000000.00"],
    ["12", 3, "12.000"],
    ["-12.34", 0, "-12"],
  ])("%s to %i decimals is %s", (text, decimals, expected) => {
    expect(formatFixed(parseDecimalText(text)!, decimals)).toBe(expected);
  });

  it("never goes through a float", () => {
    // 2^53 + 1 is not a float64; exact text survives.
    expect(formatFixed(parseDecimalText("9007199254740993.01")!, 2)).toBe("9007199254740993.01");
    expect(rescale(parseDecimalText("0.1")!, 20).unscaled).toBe(10n ** 19n);
  });

  it.each([
    [1.1, "1.1"],
    [-0, "0"],
    [1e21, "1000000000000000000000"],
    [12n, "12"],
    [-12n, "-12"],
  ])("reads the number %s by its shortest decimal text", (value, expected) => {
    const d = toDecimal(value)!;
    expect(formatFixed(d, d.scale)).toBe(expected);
  });

  it("sums exactly at the largest scale", () => {
    const total = sumDecimals(["0.1", "0.2", "-0.30", "1e-3"].map((t) => parseDecimalText(t)!));
    expect(formatFixed(total, total.scale)).toBe("0.001");
  });
});
