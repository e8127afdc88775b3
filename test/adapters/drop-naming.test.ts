// Drop file name templates: placeholders, UTC dates, and names that would leave the directory.
import { describe, expect, it } from "vitest";
import {
  assertSafeFileName,
  checkDropOptions,
  DropNameError,
  dropFileNames,
  renderDoneName,
  renderDropName,
} from "../../src/adapters/drop-naming.js";

const APRIL_12 = new Date("2025-04-12T15:30:00Z");
// 02:30 UTC on the 13th is still the 12th in New York: names follow UTC, not the host's zone.
const LATE_EVENING_IN_NEW_YORK = new Date("2025-04-13T02:30:00Z");

describe("data file names", () => {
  const cases: readonly {
    template: string;
    sequence: number;
    createdAt?: Date;
    connector?: string;
    expected: string;
  }[] = [
    { template: "permit_{date:%Y%m%d}_{batch}.txt", sequence: 42, expected: "permit_20250412_000042.txt" },
    { template: "permits_{date:%Y%m%d}.csv", sequence: 9, expected: "permits_20250412.csv" },
    { template: "{connector}-{batch:3}.dat", sequence: 7, expected: "city_hall_cobol-007.dat" },
    { template: "B{batch}", sequence: 1_234_567, expected: "B1234567" },
    { template: "{batch:1}", sequence: 0, expected: "0" },
    {
      template: "{date:%Y-%m-%dT%H%M}",
      sequence: 1,
      createdAt: LATE_EVENING_IN_NEW_YORK,
      expected: "2025-04-13T0230",
    },
    { template: "a..b{batch:2}", sequence: 5, expected: "a..b05" },
    { template: "PERMIT.DAT", sequence: 3, expected: "PERMIT.DAT" },
  ];
  it.each(cases)(
    "$template (batch $sequence) renders $expected",
    ({ template, sequence, createdAt, connector, expected }) => {
      const name = renderDropName(template, {
        connector: connector ?? "city_hall_cobol",
        sequence,
        createdAt: createdAt ?? APRIL_12,
      });
      expect(name).toBe(expected);
    },
  );

  const refused: readonly { template: string; connector?: string; sequence?: number; reason: RegExp }[] = [
    { template: "../x{batch}", reason: /path separator/ },
    { template: "..", reason: /leave the directory/ },
    { template: ".", reason: /leave the directory/ },
    { template: "{connector}.txt", connector: "a/b", reason: /path separator/ },
    { template: "in\\{batch}", reason: /path separator/ },
    { template: "x\u0000y", reason: /NUL/ },
    { template: "x{date:%n}", reason: /control character/ },
    { template: "{date}", reason: /strftime pattern/ },
    { template: "{datum:%Y}", reason: /unknown placeholder \{datum:%Y\}/ },
    { template: "{batch:0}", reason: /width from 1 to 99/ },
    { template: "{batch:x}", reason: /width from 1 to 99/ },
    { template: "{connector:x}", reason: /takes no argument/ },
    { template: "x{batch", reason: /unmatched "\{"/ },
    { template: "x}", reason: /unmatched "\}"/ },
    { template: "{file}.done", reason: /cannot be used here/ },
    { template: "{date:%Q}", reason: /unknown strftime directive %Q/ },
    { template: "", reason: /empty/ },
    { template: "{batch}", sequence: -1, reason: /non-negative integer/ },
  ];
  it.each(refused)("$template is refused ($reason)", ({ template, connector, sequence, reason }) => {
    const render = () =>
      renderDropName(template, { connector: connector ?? "c", sequence: sequence ?? 1, createdAt: APRIL_12 });
    expect(render).toThrow(DropNameError);
    expect(render).toThrow(reason);
  });
});

describe("done file names", () => {
  const cases = [
    { template: "{file}.done", file: "permit_1.txt", expected: "permit_1.txt.done" },
    { template: "READY_{file}", file: "permit_1.txt", expected: "READY_permit_1.txt" },
    { template: "TRIGGER", file: "permit_1.txt", expected: "TRIGGER" },
  ];
  it.each(cases)("$template for $file is $expected", ({ template, file, expected }) => {
    expect(renderDoneName(template, file)).toBe(expected);
  });

  const refused = [
    { template: "{file}", reason: /replace the data file/ },
    { template: "{batch}.done", reason: /cannot be used here/ },
    { template: "../{file}", reason: /path separator/ },
  ];
  it.each(refused)("$template is refused ($reason)", ({ template, reason }) => {
    expect(() => renderDoneName(template, "permit_1.txt")).toThrow(reason);
  });
});

describe("the names one batch writes", () => {
  it("uploads under the temp suffix and writes the done file the same way", () => {
    expect(dropFileNames({ tempSuffix: ".part", doneFile: "{file}.done" }, "P.TXT")).toEqual({
      file: "P.TXT",
      temp: "P.TXT.part",
      done: "P.TXT.done",
      doneTemp: "P.TXT.done.part",
    });
  });

  it("writes in place without a temp suffix", () => {
    expect(dropFileNames({ tempSuffix: "" }, "P.TXT")).toEqual({ file: "P.TXT", temp: undefined });
  });

  it("refuses a temp suffix that leaves the directory", () => {
    expect(() => dropFileNames({ tempSuffix: "/../../etc/x" }, "P.TXT")).toThrow(/path separator/);
  });

  it("refuses a temp suffix that would make the upload look like the done file", () => {
    expect(() => dropFileNames({ tempSuffix: ".done", doneFile: "{file}.done" }, "P.TXT")).toThrow(/collide/);
  });

  it("checks a connector's options before any batch exists", () => {
    expect(() => checkDropOptions({ file: "permit_{date:%Y%m%d}_{batch}.txt", tempSuffix: ".part" })).not.toThrow();
    expect(() => checkDropOptions({ file: "permit_{bacth}.txt", tempSuffix: ".part" })).toThrow(/\{bacth\}/);
    expect(() => checkDropOptions({ file: "p_{batch}", tempSuffix: ".part", doneFile: "{file}" })).toThrow(
      /replace the data file/,
    );
  });

  it("accepts names that only contain dots", () => {
    expect(assertSafeFileName("...")).toBe("...");
    expect(() => assertSafeFileName("..")).toThrow(DropNameError);
  });
});
