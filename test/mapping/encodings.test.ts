// Record fields in a connector's encoding: widths count bytes of that encoding, unmappable characters fail or are substituted.
import { describe, expect, it } from "vitest";
import type { Row } from "../../src/change/value.js";
import { compileMapping, MappingError } from "../../src/mapping/index.js";
import {
  CONTEXT,
  connectorMap,
  type FieldList,
  mappingConfig,
  sftpConnector,
  targetConfig,
} from "./mapping-builders.js";

function render(
  encoding: string,
  fields: FieldList,
  row: Row,
  options: { overflow?: "error" | "truncate"; unmappable?: "error" | "substitute" } = {},
): Buffer {
  const mapping = mappingConfig([targetConfig("drop", "fixed-width", fields, { terminator: "none", ...options })]);
  const result = compileMapping(mapping, connectorMap(sftpConnector("drop", encoding)));
  expect(result.errors).toEqual([]);
  return result.mapping!.targets[0]!.render(row, CONTEXT);
}

function hex(text: string): string {
  return text.replace(/\s+/g, "").toLowerCase();
}

describe("field widths and encodings", () => {
  // Expected bytes from glibc: printf 'José' | iconv -t IBM037 → d1 96 a2 51;
  // printf '東京' | iconv -t SHIFT_JIS → 93 8c 8b 9e; UTF-8 from the Unicode standard.
  const cases: readonly {
    name: string;
    encoding: string;
    spec: string;
    value: string;
    options?: { overflow?: "error" | "truncate"; unmappable?: "error" | "substitute" };
    bytes: string;
  }[] = [
    {
      name: "José in cp037, width 6",
      encoding: "cp037",
      spec: "v | width:6",
      value: "José",
      bytes: "d1 96 a2 51 40 40",
    },
    {
      name: "decomposed José (e + U+0301) in cp037 is composed first",
      encoding: "cp037",
      spec: "v | width:6",
      value: "Jose\u0301",
      bytes: "d1 96 a2 51 40 40",
    },
    {
      name: "José in UTF-8 takes 5 of 6 bytes",
      encoding: "utf-8",
      spec: "v | width:6",
      value: "José",
      bytes: "4a 6f 73 c3 a9 20",
    },
    { name: "José in latin1", encoding: "latin1", spec: "v | width:5", value: "José", bytes: "4a 6f 73 e9 20" },
    {
      name: "東京 in UTF-8 fills 6 bytes",
      encoding: "utf-8",
      spec: "v | width:6",
      value: "東京",
      bytes: "e6 9d b1 e4 ba ac",
    },
    {
      name: "東京 truncated to 5 UTF-8 bytes keeps whole characters and pads",
      encoding: "utf-8",
      spec: "v | width:5",
      value: "東京",
      options: { overflow: "truncate" },
      bytes: "e6 9d b1 20 20",
    },
    {
      name: "東京 in Shift_JIS takes 4 bytes",
      encoding: "shift_jis",
      spec: "v | width:6",
      value: "東京",
      bytes: "93 8c 8b 9e 20 20",
    },
    {
      name: "東京 in cp037 substituted with EBCDIC SUB",
      encoding: "cp037",
      spec: "v | width:4",
      value: "東京",
      options: { unmappable: "substitute" },
      bytes: "3f 3f 40 40",
    },
    {
      name: "an emoji is one character, one SUB byte",
      encoding: "cp037",
      spec: "v | width:3",
      value: "a😀",
      options: { unmappable: "substitute" },
      bytes: "81 3f 40",
    },
    {
      name: "ASCII substitutes '?'",
      encoding: "ascii",
      spec: "v | width:5",
      value: "José",
      options: { unmappable: "substitute" },
      bytes: "4a 6f 73 3f 20",
    },
    {
      name: "right-aligned truncation keeps the end",
      encoding: "cp037",
      spec: "v | lpad:3,0",
      value: "12345",
      options: { overflow: "truncate" },
      bytes: "f3 f4 f5",
    },
    { name: "pad character in cp037", encoding: "cp037", spec: "v | lpad:5,*", value: "42", bytes: "5c 5c 5c f4 f2" },
  ];

  it.each(cases)("$name", ({ encoding, spec, value, options, bytes }) => {
    expect(render(encoding, { F: spec }, { v: value }, options).toString("hex")).toBe(hex(bytes));
  });

  it("fails a record whose text has a character cp037 lacks, naming the field and character", () => {
    const attempt = () => render("cp037", { NAME: "v | width:4" }, { v: "東京" });
    expect(attempt).toThrowError(MappingError);
    expect(attempt).toThrowError(expect.objectContaining({ field: "NAME", reason: expect.stringMatching(/U\+6771/) }));
  });

  it("fails a UTF-8 value that overflows its width in bytes", () => {
    expect(() => render("utf-8", { F: "v | width:5" }, { v: "東京" })).toThrowError(
      expect.objectContaining({ field: "F", reason: "6 bytes do not fit width 5 (overflow: error)" }),
    );
  });

  it("fails a lone surrogate in UTF-8 unless substituting", () => {
    expect(() => render("utf-8", { F: "v | width:4" }, { v: "a\ud800" })).toThrowError(/U\+D800/);
    expect(render("utf-8", { F: "v | width:4" }, { v: "a\ud800" }, { unmappable: "substitute" }).toString("hex")).toBe(
      "61efbfbd",
    );
  });

  it("encodes the CRLF terminator in the code page (EBCDIC CR 0D, LF 25)", () => {
    const mapping = mappingConfig([targetConfig("drop", "fixed-width", { F: "v | width:1" })]);
    const target = compileMapping(mapping, connectorMap(sftpConnector("drop", "cp037"))).mapping!.targets[0]!;
    expect(target.render({ v: "A" }, CONTEXT).toString("hex")).toBe("c10d25");
  });
});
