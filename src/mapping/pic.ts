// COBOL PICTURE clauses: parsing X(n), 9(n)V9(m), S9(n)V9(m) [COMP-3 | COMP] and producing their exact bytes (IBM zoned, packed, binary).
import { type Decimal, pow10, rescale } from "./decimal.js";

export type NumericUsage = "display" | "packed" | "binary";

export type Picture =
  | { readonly kind: "alphanumeric"; readonly text: string; readonly length: number }
  | {
      readonly kind: "numeric";
      readonly text: string;
      readonly signed: boolean;
      readonly integerDigits: number;
      readonly fractionDigits: number;
      readonly usage: NumericUsage;
    };

export type NumericPicture = Extract<Picture, { kind: "numeric" }>;

/** A PICTURE string this engine does not accept, with the reason. */
export class PictureSyntaxError extends Error {
  override readonly name = "PictureSyntaxError";
  constructor(
    readonly picture: string,
    readonly reason: string,
  ) {
    super(`bad COBOL picture ${JSON.stringify(picture)}: ${reason}`);
  }
}

export const SUPPORTED_PICTURES = "X(n), 9(n), 9(n)V9(m), S9(n)V9(m), optionally followed by COMP-3 or COMP";

const USAGES: Readonly<Record<string, NumericUsage>> = {
  DISPLAY: "display",
  "COMP-3": "packed",
  "COMPUTATIONAL-3": "packed",
  "PACKED-DECIMAL": "packed",
  COMP: "binary",
  "COMP-4": "binary",
  COMPUTATIONAL: "binary",
  "COMPUTATIONAL-4": "binary",
  BINARY: "binary",
};

/** COBOL allows 31 digits with ARITH(EXTEND); binary items stop at 18 (a doubleword). */
const MAX_DIGITS: Readonly<Record<NumericUsage, number>> = { display: 31, packed: 31, binary: 18 };
const MAX_ALPHANUMERIC = 65_535;

function parseUsage(words: readonly string[], picture: string): NumericUsage {
  const rest = words.map((w) => w.toUpperCase()).filter((w) => w !== "USAGE" && w !== "IS");
  if (rest.length === 0) return "display";
  const usage = rest.length === 1 ? USAGES[rest[0]!] : undefined;
  if (usage === undefined) {
    throw new PictureSyntaxError(picture, `unknown usage ${JSON.stringify(rest.join(" "))} (expected COMP-3 or COMP)`);
  }
  return usage;
}

/** Parses a PICTURE string such as 'X(10)', '999', 'S9(7)V99', 'S9(7)V9(2) COMP-3'. */
export function parsePicture(text: string): Picture {
  const words = text.trim().split(/\s+/);
  const body = (words[0] ?? "").toUpperCase();
  if (body === "") throw new PictureSyntaxError(text, "empty picture");
  let signed = false;
  let alphanumeric = 0;
  let integerDigits = 0;
  let fractionDigits = 0;
  let seenV = false;
  let i = 0;
  if (body[0] === "S") {
    signed = true;
    i = 1;
  }
  while (i < body.length) {
    const symbol = body[i]!;
    i++;
    if (symbol === "V") {
      if (seenV) throw new PictureSyntaxError(text, "V (implied decimal point) appears twice");
      seenV = true;
      continue;
    }
    let count = 1;
    if (body[i] === "(") {
      const close = body.indexOf(")", i);
      const repeat = close < 0 ? "" : body.slice(i + 1, close);
      if (!/^\d{1,5}$/.test(repeat) || Number(repeat) === 0) {
        throw new PictureSyntaxError(text, `bad repeat count after ${symbol} (expected ${symbol}(n) with n ≥ 1)`);
      }
      count = Number(repeat);
      i = close + 1;
    }
    if (symbol === "X") alphanumeric += count;
    else if (symbol === "9" && seenV) fractionDigits += count;
    else if (symbol === "9") integerDigits += count;
    else
      throw new PictureSyntaxError(
        text,
        `unsupported symbol ${JSON.stringify(symbol)} (supported: ${SUPPORTED_PICTURES})`,
      );
  }
  if (alphanumeric > 0) {
    if (signed || seenV || integerDigits > 0) {
      throw new PictureSyntaxError(text, "X cannot be mixed with S, 9 or V");
    }
    if (words.length > 1 && parseUsage(words.slice(1), text) !== "display") {
      throw new PictureSyntaxError(text, "an alphanumeric picture can only be DISPLAY");
    }
    if (alphanumeric > MAX_ALPHANUMERIC) throw new PictureSyntaxError(text, `longer than ${MAX_ALPHANUMERIC}`);
    return { kind: "alphanumeric", text, length: alphanumeric };
  }
  const digits = integerDigits + fractionDigits;
  if (digits === 0) throw new PictureSyntaxError(text, `no digit positions (supported: ${SUPPORTED_PICTURES})`);
  const usage = parseUsage(words.slice(1), text);
  if (digits > MAX_DIGITS[usage]) {
    throw new PictureSyntaxError(text, `${digits} digits; ${usage} items hold at most ${MAX_DIGITS[usage]}`);
  }
  return { kind: "numeric", text, signed, integerDigits, fractionDigits, usage };
}

/** Bytes the item occupies in a record. */
export function pictureByteLength(p: Picture): number {
  if (p.kind === "alphanumeric") return p.length;
  const digits = p.integerDigits + p.fractionDigits;
  if (p.usage === "display") return digits;
  if (p.usage === "packed") return Math.floor(digits / 2) + 1;
  return digits <= 4 ? 2 : digits <= 9 ? 4 : 8;
}

// IBM zoned decimal overpunch: the last digit carries the sign in its zone nibble. These
// characters sit at 0xC0-0xC9 ('{', 'A'..'I') and 0xD0-0xD9 ('}', 'J'..'R') in the EBCDIC
// code pages, so encoding them lands the C/D zone; in ASCII they are the customary signs.
const POSITIVE_OVERPUNCH = "{ABCDEFGHI";
const NEGATIVE_OVERPUNCH = "}JKLMNOPQR";

/**
 * The digits a numeric picture holds for a value, or a reason it cannot: a negative value for
 * an unsigned picture, or too many integer digits (unless truncating, which keeps the low-order
 * digits as COBOL MOVE does). Extra fraction digits round half-up away from zero.
 */
function pictureDigits(
  p: NumericPicture,
  value: Decimal,
  truncate: boolean,
): { negative: boolean; digits: string } | string {
  const r = rescale(value, p.fractionDigits);
  if (r.negative && !p.signed) return `negative value for unsigned picture ${p.text} (use S9 to carry a sign)`;
  const total = p.integerDigits + p.fractionDigits;
  let unscaled = r.unscaled;
  if (unscaled >= pow10(total)) {
    if (!truncate) {
      const needed = unscaled.toString().length - p.fractionDigits;
      return `needs ${needed} integer digits, picture ${p.text} holds ${p.integerDigits}`;
    }
    unscaled %= pow10(total);
  }
  return { negative: r.negative && unscaled !== 0n, digits: unscaled.toString().padStart(total, "0") };
}

/** Zoned decimal text (DISPLAY usage): digits, the last one overpunched with the sign when signed. */
export function zonedText(p: NumericPicture, value: Decimal, truncate: boolean): string | { failure: string } {
  const r = pictureDigits(p, value, truncate);
  if (typeof r === "string") return { failure: r };
  if (!p.signed) return r.digits;
  const last = r.digits.charCodeAt(r.digits.length - 1) - 48;
  const sign = (r.negative ? NEGATIVE_OVERPUNCH : POSITIVE_OVERPUNCH)[last]!;
  return r.digits.slice(0, -1) + sign;
}

/** Packed decimal (COMP-3): two digits a byte, a leading zero nibble when the digit count is even, sign nibble C/D (F unsigned). */
export function packedBytes(p: NumericPicture, value: Decimal, truncate: boolean): Buffer | { failure: string } {
  const r = pictureDigits(p, value, truncate);
  if (typeof r === "string") return { failure: r };
  const digits = r.digits.length % 2 === 0 ? `0${r.digits}` : r.digits;
  const sign = !p.signed ? 0xf : r.negative ? 0xd : 0xc;
  const out = Buffer.allocUnsafe((digits.length + 1) / 2);
  for (let i = 0; i < out.length; i++) {
    const high = digits.charCodeAt(2 * i) - 48;
    const low = 2 * i + 1 < digits.length ? digits.charCodeAt(2 * i + 1) - 48 : sign;
    out[i] = (high << 4) | low;
  }
  return out;
}

/** Binary (COMP): big-endian two's complement (unsigned when the picture has no S) in 2, 4 or 8 bytes. */
export function binaryBytes(p: NumericPicture, value: Decimal, truncate: boolean): Buffer | { failure: string } {
  const r = pictureDigits(p, value, truncate);
  if (typeof r === "string") return { failure: r };
  const magnitude = BigInt(r.digits);
  const n = r.negative ? -magnitude : magnitude;
  const size = pictureByteLength(p);
  const out = Buffer.alloc(size);
  if (size === 2) p.signed ? out.writeInt16BE(Number(n)) : out.writeUInt16BE(Number(n));
  else if (size === 4) p.signed ? out.writeInt32BE(Number(n)) : out.writeUInt32BE(Number(n));
  else p.signed ? out.writeBigInt64BE(n) : out.writeBigUInt64BE(n);
  return out;
}

/** Reads back a zoned decimal's digits and sign (for batch trailer totals); undefined when malformed. */
export function readZoned(p: NumericPicture, text: string): Decimal | undefined {
  let digits = text;
  let negative = false;
  if (p.signed && text.length > 0) {
    const last = text[text.length - 1]!;
    const positive = POSITIVE_OVERPUNCH.indexOf(last);
    const negativeDigit = NEGATIVE_OVERPUNCH.indexOf(last);
    if (positive >= 0) digits = text.slice(0, -1) + positive;
    else if (negativeDigit >= 0) {
      digits = text.slice(0, -1) + negativeDigit;
      negative = true;
    }
  }
  if (!/^\d+$/.test(digits)) return undefined;
  const unscaled = BigInt(digits);
  return { negative: negative && unscaled !== 0n, unscaled, scale: p.fractionDigits };
}

/** Reads back a packed decimal; undefined when a digit or the sign nibble is invalid. */
export function readPacked(p: NumericPicture, bytes: Buffer): Decimal | undefined {
  let digits = "";
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    const high = byte >> 4;
    if (high > 9) return undefined;
    digits += high;
    if (i < bytes.length - 1) {
      if ((byte & 0xf) > 9) return undefined;
      digits += byte & 0xf;
    }
  }
  const sign = bytes[bytes.length - 1]! & 0xf;
  if (sign < 0xa) return undefined;
  const unscaled = BigInt(digits);
  return { negative: (sign === 0xd || sign === 0xb) && unscaled !== 0n, unscaled, scale: p.fractionDigits };
}

/** Reads back a binary item. */
export function readBinary(p: NumericPicture, bytes: Buffer): Decimal {
  let n: bigint;
  if (bytes.length === 2) n = BigInt(p.signed ? bytes.readInt16BE() : bytes.readUInt16BE());
  else if (bytes.length === 4) n = BigInt(p.signed ? bytes.readInt32BE() : bytes.readUInt32BE());
  else n = p.signed ? bytes.readBigInt64BE() : bytes.readBigUInt64BE();
  return { negative: n < 0n, unscaled: n < 0n ? -n : n, scale: p.fractionDigits };
}
