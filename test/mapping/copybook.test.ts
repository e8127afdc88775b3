// Copybooks read into layouts (levels, groups, OCCURS, FILLER, COMP-3, COMP) and written back from a
// fixed-width target; what cannot be one fixed layout is refused at its file and line.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { MappingConfig } from "../../src/config/types.js";
import { CopybookError, parseCopybook } from "../../src/mapping/copybook.js";
import { CopybookExportError, exportCopybook } from "../../src/mapping/copybook-export.js";
import { fieldsFromCopybook } from "../../src/mapping/copybook-fields.js";
import { compileMapping } from "../../src/mapping/index.js";
import { connectorMap, mappingConfig, sftpConnector, targetConfig } from "./mapping-builders.js";

const FIXTURES = new URL("../fixtures/copybook/", import.meta.url);
const read = (name: string) => readFileSync(fileURLToPath(new URL(name, FIXTURES)), "utf8");

function errorOf(run: () => unknown): CopybookError {
  try {
    run();
  } catch (error) {
    if (error instanceof CopybookError) return error;
    throw error;
  }
  throw new Error("expected a CopybookError");
}

describe("reading a copybook", () => {
  it("lays out levels, groups, OCCURS, FILLER, COMP-3 and COMP with fixed-format sequence numbers and comments", () => {
    const records = parseCopybook(read("treasury.cpy"), "treasury.cpy");
    expect(records.map((r) => [r.name, r.length])).toEqual([
      ["TREAS-HEADER", 46],
      ["TREAS-PERMIT", 46],
      ["TREAS-TRAILER", 46],
    ]);
    const data = records[1]?.fields.map((f) => `${f.name}@${f.offset}+${f.width} ${f.picture}`);
    expect(data).toEqual([
      "PERMIT-ID@0+10 X(10)",
      "PERMIT-STATE@10+8 X(8)",
      "AMOUNT@18+9 S9(7)V99",
      "AMOUNT-P@27+5 S9(7)V99 COMP-3",
      "FEE-1@32+4 S9(5)V99 COMP-3",
      "FEE-2@36+4 S9(5)V99 COMP-3",
      "UNITS@40+2 9(4) COMP",
      "FILLER@42+4 X(4)",
    ]);
    expect(records[1]?.fields[7]).toMatchObject({ filler: true, value: "" });
  });

  it("repeats a group that OCCURS, numbering each item, and takes a group's USAGE", () => {
    const [record] = parseCopybook(
      [
        "       01  R.",
        "           05  LINE-ITEM OCCURS 2 TIMES COMP-3.",
        "               10  QTY    PIC 9(3).",
        "               10  PRICE  PIC S9(5)V99.",
        "           05  NOTE PIC X(3).",
      ].join("\n"),
      "r.cpy",
    );
    expect(record?.fields.map((f) => `${f.name}@${f.offset}+${f.width}`)).toEqual([
      "QTY-1@0+2",
      "PRICE-1@2+4",
      "QTY-2@6+2",
      "PRICE-2@8+4",
      "NOTE@12+3",
    ]);
  });

  it("refuses REDEFINES with the file and line of the clause", () => {
    const error = errorOf(() => parseCopybook(read("redefines.cpy"), "copybooks/redefines.cpy"));
    expect(error.file).toBe("copybooks/redefines.cpy");
    expect(error.line).toBe(4);
    expect(error.message).toMatch(/^copybooks\/redefines\.cpy:4: PERMIT-YMD REDEFINES PERMIT-DATE: /);
  });

  it.each([
    ["       01  R.\n           05  N PIC 9(3) OCCURS 1 TO 5 DEPENDING ON C.", 2, /OCCURS DEPENDING ON/],
    ["       01  R.\n           05  N PIC 9(3) SYNC.", 2, /SYNC adds slack bytes/],
    ["       01  R.\n           05  N PIC 9(3) COMP-1.", 2, /COMP-1 is not supported/],
    ["       01  R.\n           05  N PIC ZZ9.99.", 2, /unsupported symbol "Z"/],
    ["       01  R.\n           05  N PIC X(3)", 2, /has no period/],
    ["       01  R.\n       66  S RENAMES N.", 2, /RENAMES/],
  ])("refuses what is not one fixed layout: %s", (text, line, message) => {
    const error = errorOf(() => parseCopybook(text, "x.cpy"));
    expect(error.line).toBe(line);
    expect(error.reason).toMatch(message);
  });
});

describe("a target's copybook", () => {
  const connectors = connectorMap(sftpConnector("treasury", "cp037"));

  function compiled(mapping: MappingConfig) {
    const result = compileMapping(mapping, connectors);
    expect(result.errors.map((e) => e.message)).toEqual([]);
    const target = result.mapping?.targets[0];
    if (!target?.fixedWidth) throw new Error("no fixed-width target");
    return target.fixedWidth;
  }

  const mapping = mappingConfig([
    targetConfig("treasury", "fixed-width", {
      "PERMIT-ID": "id | pic:X(10)",
      AMOUNT: "amount | pic:S9(7)V99",
      "AMOUNT-P": "amount | pic:S9(7)V99 comp-3",
      UNITS: "units | pic:9(4) comp",
      ISSUED: "updated_at | format:%Y%m%d",
    }),
  ]);

  it("prints every field with its picture, the terminator as a FILLER, within column 72", () => {
    const text = exportCopybook({
      mapping: "treasury_permits",
      connector: "treasury",
      records: compiled(mapping),
      file: "m.yaml",
    });
    const code = text.split("\n").filter((l) => l !== "" && l[6] !== "*");
    expect(code).toEqual([
      "       01  TREASURY-PERMITS-RECORD.",
      "           05  PERMIT-ID          PIC X(10).",
      "           05  AMOUNT             PIC S9(7)V99.",
      "           05  AMOUNT-P           PIC S9(7)V99 COMP-3.",
      "           05  UNITS              PIC 9(4) COMP.",
      "           05  ISSUED             PIC X(8).",
      '           05  FILLER             PIC X(2) VALUE X"0D25".',
    ]);
    expect(Math.max(...text.split("\n").map((l) => l.length))).toBeLessThanOrEqual(72);
    expect(text).toContain("Data records are 36 bytes");
    // Read back, the layout is the target's: same offsets and pictures.
    const [record] = parseCopybook(text, "export.cpy");
    expect(record?.fields.map((f) => `${f.name}@${f.offset}+${f.width}`)).toEqual([
      "PERMIT-ID@0+10",
      "AMOUNT@10+9",
      "AMOUNT-P@19+5",
      "UNITS@24+2",
      "ISSUED@26+8",
      "FILLER@34+2",
    ]);
  });

  it("refuses a field named with a COBOL reserved word, saying which", () => {
    const reserved = mappingConfig([targetConfig("treasury", "fixed-width", { STATUS: "status | width:10" })]);
    expect(() =>
      exportCopybook({ mapping: "m", connector: "treasury", records: compiled(reserved), file: "m.yaml" }),
    ).toThrow(CopybookExportError);
    expect(() =>
      exportCopybook({ mapping: "m", connector: "treasury", records: compiled(reserved), file: "m.yaml" }),
    ).toThrow(/STATUS is a COBOL reserved word/);
  });

  it("import keeps a field whose width and picture agree, keeps the column of one that does not, and names new ones after their columns", () => {
    const records = compiled(mapping);
    const [record] = parseCopybook(
      [
        "       01  P.",
        "           05  PERMIT-ID   PIC X(10).",
        "           05  AMOUNT      PIC S9(9)V99.",
        "           05  AMOUNT-P    PIC S9(7)V99 COMP-3.",
        "           05  FEE-CODE    PIC X(3).",
        "           05  FILLER      PIC X(2) VALUE 'NA'.",
        '           05  FILLER      PIC X(2) VALUE X"0D25".',
      ].join("\n"),
      "p.cpy",
    );
    if (!record) throw new Error("no record");
    const existing = mapping.targets[0]?.fields ?? [];
    const fields = fieldsFromCopybook(record, "record", existing, records.record, records.terminator, "p.cpy");
    expect(fields.map((f) => [f.name, f.spec, f.note])).toEqual([
      ["PERMIT-ID", "id | pic:X(10)", "kept"],
      ["AMOUNT", "amount | pic:S9(9)V99", "repictured"],
      ["AMOUNT-P", "amount | pic:S9(7)V99 comp-3", "kept"],
      ["FEE-CODE", "fee_code | pic:X(3)", "new"],
      ["FILLER-30", "const:'NA' | pic:X(2)", "filler"],
    ]);
  });
});
