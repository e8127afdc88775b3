// The EBCDIC code pages checked over all 256 bytes, both ways, against glibc iconv's tables.
//
// The vectors in test/fixtures/ebcdic/<codepage>.json were produced once with
//   python3 test/fixtures/ebcdic/generate.py
// which runs `iconv -f IBM037 -t UTF-32BE` over the bytes 0x00-0xFF (and IBM500, IBM1047,
// IBM1140), `iconv -f UTF-32BE -t IBM037` back, and cross-checks Python's codecs where Python
// has the code page. glibc 2.36 (Debian 12) made them.
import { readFileSync } from "node:fs";
import iconv from "iconv-lite";
import { describe, expect, it } from "vitest";
import { registerEbcdicCodecs } from "../../src/mapping/index.js";
import { textCodec } from "../../src/mapping/text-codec.js";

interface Vectors {
  readonly codepage: string;
  readonly toUnicode: readonly number[];
  readonly fromUnicode: readonly number[];
}

function vectors(page: string): Vectors {
  const url = new URL(`../fixtures/ebcdic/${page}.json`, import.meta.url);
  return JSON.parse(readFileSync(url, "utf8")) as Vectors;
}

const PAGES = ["cp037", "cp500", "cp1047", "cp1140"];

describe("EBCDIC code pages in iconv-lite", () => {
  registerEbcdicCodecs();

  it.each(PAGES)("%s decodes every byte as glibc does", (page) => {
    const v = vectors(page);
    expect(v.toUnicode).toHaveLength(256);
    const decoded = iconv.decode(Buffer.from(Array.from({ length: 256 }, (_, i) => i)), page);
    expect([...decoded].map((c) => c.codePointAt(0))).toEqual(v.toUnicode);
  });

  it.each(PAGES)("%s encodes every character as glibc does", (page) => {
    const v = vectors(page);
    const text = String.fromCodePoint(...v.toUnicode);
    expect([...iconv.encode(text, page)]).toEqual(v.fromUnicode);
  });

  it.each(PAGES)("%s: the record encoder's lookup table agrees with glibc both ways", (page) => {
    const v = vectors(page);
    const codec = textCodec(page, "error");
    const text = String.fromCodePoint(...v.toUnicode);
    expect([...codec.encode(text)]).toEqual(v.fromUnicode);
    expect(codec.decode(Buffer.from(v.fromUnicode))).toBe(text);
  });

  it("cp1140 is cp037 with the euro sign at 0x9F", () => {
    const cp037 = vectors("cp037").toUnicode;
    const cp1140 = vectors("cp1140").toUnicode;
    const differences = cp037.flatMap((code, byte) => (code === cp1140[byte] ? [] : [byte]));
    expect(differences).toEqual([0x9f]);
    expect(iconv.encode("€", "cp1140")).toEqual(Buffer.from([0x9f]));
    expect(() => textCodec("cp037", "error").encode("€")).toThrow(/U\+20AC/);
  });

  it("is idempotent and answers to IBM's names", () => {
    registerEbcdicCodecs();
    registerEbcdicCodecs();
    for (const name of ["IBM037", "IBM-037", "EBCDIC-CP-US", "IBM500", "IBM1047", "IBM-1140", "CP1140"]) {
      expect(iconv.encodingExists(name), name).toBe(true);
    }
    expect(iconv.encode("A", "IBM-1047")).toEqual(Buffer.from([0xc1]));
  });

  it("places the brackets where each code page has them", () => {
    // [ and ] are the classic EBCDIC trap: 0xBA/0xBB in cp037, 0x4A/0x5A in cp500, 0xAD/0xBD in cp1047.
    expect([...iconv.encode("[]", "cp037")]).toEqual([0xba, 0xbb]);
    expect([...iconv.encode("[]", "cp500")]).toEqual([0x4a, 0x5a]);
    expect([...iconv.encode("[]", "cp1047")]).toEqual([0xad, 0xbd]);
  });
});
