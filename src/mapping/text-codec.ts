// Text to bytes in a connector's encoding: lookup tables for single-byte code pages, iconv-lite for the rest, with unmappable characters reported or substituted.
import iconv from "iconv-lite";
import { registerEbcdicCodecs } from "./ebcdic-codecs.js";

/** A character the encoding cannot represent (only raised when unmappable characters are errors). */
export class UnmappableCharacterError extends Error {
  override readonly name = "UnmappableCharacterError";
  constructor(
    readonly character: string,
    readonly encoding: string,
  ) {
    const code = character.codePointAt(0) ?? 0;
    const name = `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
    super(`character ${name} ${JSON.stringify(character)} cannot be represented in ${encoding}`);
  }
}

/** How widths are counted for a target: bytes of its encoding, or characters for JSON. */
export interface TextMeasure {
  readonly unit: "bytes" | "characters";
  length(text: string): number;
  /** The longest leading part of the text that takes at most `max` units. */
  keepStart(text: string, max: number): string;
  /** The longest trailing part of the text that takes at most `max` units. */
  keepEnd(text: string, max: number): string;
}

export interface TextCodec {
  readonly encoding: string;
  readonly measure: TextMeasure;
  /** The bytes of the text; throws UnmappableCharacterError unless substituting. */
  encode(text: string): Buffer;
  /** Writes the text at `offset` and returns the bytes written (single-byte codecs write in place). */
  encodeInto(text: string, target: Buffer, offset: number): number;
  decode(bytes: Buffer): string;
}

/** An encoding name neither iconv-lite nor the EBCDIC tables know. */
export class UnknownEncodingError extends Error {
  override readonly name = "UnknownEncodingError";
  constructor(readonly encoding: string) {
    super(`unknown encoding ${JSON.stringify(encoding)}`);
  }
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** Counts Unicode code points: a surrogate pair is one character. */
export const CODE_POINTS: TextMeasure = {
  unit: "characters",
  length(text) {
    let n = text.length;
    for (let i = 0; i < text.length - 1; i++) {
      if (isHighSurrogate(text.charCodeAt(i)) && isLowSurrogate(text.charCodeAt(i + 1))) {
        n--;
        i++;
      }
    }
    return n;
  },
  keepStart(text, max) {
    let i = 0;
    for (let kept = 0; kept < max && i < text.length; kept++) {
      i += isHighSurrogate(text.charCodeAt(i)) && isLowSurrogate(text.charCodeAt(i + 1)) ? 2 : 1;
    }
    return text.slice(0, i);
  },
  keepEnd(text, max) {
    let i = text.length;
    for (let kept = 0; kept < max && i > 0; kept++) {
      i -= i >= 2 && isLowSurrogate(text.charCodeAt(i - 1)) && isHighSurrogate(text.charCodeAt(i - 2)) ? 2 : 1;
    }
    return text.slice(i);
  },
};

function measureBy(byteLength: (text: string) => number): TextMeasure {
  return {
    unit: "bytes",
    length: byteLength,
    keepStart(text, max) {
      let kept = "";
      let used = 0;
      for (const ch of text) {
        const n = byteLength(ch);
        if (used + n > max) break;
        kept += ch;
        used += n;
      }
      return kept;
    },
    keepEnd(text, max) {
      const chars = [...text];
      let kept = "";
      let used = 0;
      for (let i = chars.length - 1; i >= 0; i--) {
        const n = byteLength(chars[i]!);
        if (used + n > max) break;
        kept = chars[i] + kept;
        used += n;
      }
      return kept;
    },
  };
}

function firstCharacterAt(text: string, i: number): string {
  const code = text.charCodeAt(i);
  return isHighSurrogate(code) && isLowSurrogate(text.charCodeAt(i + 1)) ? text.slice(i, i + 2) : text[i]!;
}

/** A single-byte code page driven by a 64K lookup table (one array read per character). */
class SingleByteCodec implements TextCodec {
  readonly measure = CODE_POINTS;
  private readonly toByte = new Int16Array(0x10000).fill(-1);
  private readonly substitute: number;

  constructor(
    readonly encoding: string,
    private readonly toUnicode: readonly number[],
    private readonly substituting: boolean,
  ) {
    for (let byte = 0; byte < toUnicode.length; byte++) {
      const code = toUnicode[byte]!;
      if (code !== 0xfffd && this.toByte[code] === -1) this.toByte[code] = byte;
    }
    // EBCDIC code pages have a SUB control at 0x3F; the ASCII family substitutes '?'.
    this.substitute = toUnicode[0x3f] === 0x1a ? 0x3f : this.toByte[0x3f]! >= 0 ? this.toByte[0x3f]! : 0x3f;
  }

  encode(text: string): Buffer {
    const out = Buffer.allocUnsafe(CODE_POINTS.length(text));
    this.encodeInto(text, out, 0);
    return out;
  }

  encodeInto(text: string, target: Buffer, offset: number): number {
    const toByte = this.toByte;
    let at = offset;
    for (let i = 0; i < text.length; i++) {
      const byte = toByte[text.charCodeAt(i)]!;
      if (byte >= 0) {
        target[at++] = byte;
        continue;
      }
      const character = firstCharacterAt(text, i);
      if (!this.substituting) throw new UnmappableCharacterError(character, this.encoding);
      target[at++] = this.substitute;
      i += character.length - 1;
    }
    return at - offset;
  }

  decode(bytes: Buffer): string {
    let text = "";
    for (const byte of bytes) text += String.fromCharCode(this.toUnicode[byte]!);
    return text;
  }
}

const LONE_SURROGATE = /\p{Cs}/u;

class Utf8Codec implements TextCodec {
  readonly encoding = "utf-8";
  readonly measure = measureBy((text) => Buffer.byteLength(text, "utf8"));

  constructor(private readonly substituting: boolean) {}

  private check(text: string): void {
    if (this.substituting) return;
    const lone = LONE_SURROGATE.exec(text);
    if (lone) throw new UnmappableCharacterError(lone[0], this.encoding);
  }

  encode(text: string): Buffer {
    this.check(text);
    return Buffer.from(text, "utf8");
  }

  encodeInto(text: string, target: Buffer, offset: number): number {
    this.check(text);
    return target.write(text, offset, "utf8");
  }

  decode(bytes: Buffer): string {
    return bytes.toString("utf8");
  }
}

/** Multi-byte iconv-lite encodings (Shift_JIS, GBK, UTF-16…): unmappable characters found by a round trip. */
class IconvCodec implements TextCodec {
  readonly measure: TextMeasure;

  constructor(
    readonly encoding: string,
    private readonly substituting: boolean,
  ) {
    this.measure = measureBy((text) => iconv.encode(text, encoding).length);
  }

  encode(text: string): Buffer {
    const bytes = iconv.encode(text, this.encoding);
    if (!this.substituting && iconv.decode(bytes, this.encoding) !== text) {
      for (const ch of text) {
        if (iconv.decode(iconv.encode(ch, this.encoding), this.encoding) !== ch)
          throw new UnmappableCharacterError(ch, this.encoding);
      }
    }
    return bytes;
  }

  encodeInto(text: string, target: Buffer, offset: number): number {
    return this.encode(text).copy(target, offset);
  }

  decode(bytes: Buffer): string {
    return iconv.decode(bytes, this.encoding);
  }
}

const UTF8_NAMES = new Set(["utf8", "unicode11utf8"]);
const cache = new Map<string, TextCodec>();

/**
 * The codec of an encoding name (any iconv-lite name, plus the EBCDIC code pages).
 * `unmappable: "substitute"` writes the code page's substitute (EBCDIC SUB 0x3F, '?' elsewhere)
 * instead of failing. Throws UnknownEncodingError.
 */
export function textCodec(encoding: string, unmappable: "error" | "substitute"): TextCodec {
  const key = `${encoding}\u0000${unmappable}`;
  const cached = cache.get(key);
  if (cached) return cached;
  registerEbcdicCodecs();
  if (!iconv.encodingExists(encoding)) throw new UnknownEncodingError(encoding);
  const substituting = unmappable === "substitute";
  let codec: TextCodec;
  const iconvCodec = iconv.getCodec(encoding);
  const decodeBuf: unknown = iconvCodec.decodeBuf;
  if (UTF8_NAMES.has(iconv._canonicalizeEncoding(encoding))) {
    codec = new Utf8Codec(substituting);
  } else if (Buffer.isBuffer(decodeBuf) && decodeBuf.length === 512) {
    // iconv-lite's single-byte codecs keep their byte → UTF-16 table as 256 code units.
    const table: number[] = [];
    for (let byte = 0; byte < 256; byte++) table.push(decodeBuf.readUInt16LE(byte * 2));
    codec = new SingleByteCodec(encoding, table, substituting);
  } else {
    codec = new IconvCodec(encoding, substituting);
  }
  cache.set(key, codec);
  return codec;
}
