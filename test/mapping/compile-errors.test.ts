// Mistakes in a mapping are configuration errors that name the file, line and field, all of them at once.
import { describe, expect, it } from "vitest";
import type { FieldSpec } from "../../src/config/types.js";
import { compileMapping, MappingConfigError } from "../../src/mapping/index.js";
import {
  connectorMap,
  FILE,
  mappingConfig,
  restConnector,
  sftpConnector,
  soapConnector,
  targetConfig,
} from "./mapping-builders.js";

const connectors = connectorMap(
  sftpConnector("drop", "cp037"),
  restConnector("gis"),
  soapConnector("county"),
  sftpConnector("utf8drop", "utf-8"),
);

function errorsOf(spec: FieldSpec, format: "fixed-width" | "json" | "csv" = "fixed-width", pii: string[] = []) {
  const connector = format === "fixed-width" || format === "csv" ? "drop" : "gis";
  const result = compileMapping(mappingConfig([targetConfig(connector, format, { F: spec })], { pii }), connectors);
  expect(result.mapping).toBeUndefined();
  return result.errors;
}

describe("field expressions that do not compile", () => {
  it.each([
    ["v | shout", /unknown formatter "shout"/, "shout"],
    ["v | width", /width needs an argument/, "width"],
    ["v | width:0", /is not width:N/, "width:0"],
    ["v | width:ten", /is not width:N/, "width:ten"],
    ["v | lpad:5,ab", /pad "ab" is not a single-character character/, '"ab"'],
    ["v | number:x", /is not a number of decimals/, "number:x"],
    ["v | number:31", /is not a number of decimals/, "number:31"],
    ["v | upper:1", /upper takes no argument/, "upper:1"],
    ["v | format:%Y%Q", /unknown strftime directive %Q/, "%Q"],
    ["v | format", /format needs an argument/, "format"],
    ["v | pic:Z(5)", /unsupported symbol "Z"/, "Z(5)"],
    ["v | pic:9(5) COMP-9", /unknown usage/, "9(5) COMP-9"],
    ["v | map:A", /entry "A" has no '='/, "A"],
    ["v | map:A=1,A=2", /key "A" appears twice/, "A"],
    ["v | default", /default needs a value/, "default"],
    ["v | mask:x", /is not mask or mask:N/, "mask:x"],
    ["v | | upper", /formatter 1 is empty/, "an empty formatter between two |"],
    ["bad column! | upper", /is not a column name/, '"bad column!"'],
    [
      "v | pic:S9(5) COMP-3 | width:5",
      /binary picture .* must be the last formatter/,
      "v | pic:S9(5) COMP-3 | width:5",
    ],
  ])("%s", (spec, message, found) => {
    const errors = errorsOf(spec);
    expect(errors.length).toBeGreaterThanOrEqual(1);
    const error = errors[0]!;
    expect(error).toBeInstanceOf(MappingConfigError);
    expect(error.message).toMatch(message);
    expect(error.found).toBe(found);
    expect(error.location).toEqual({ file: FILE, line: 20, column: 7, path: ["targets", 0, "fields", "F"] });
    expect(error.message.startsWith(`${FILE}:20:7: targets[0].fields.F: field F: `)).toBe(true);
  });

  it.each(["v", "v | upper", "v | number:2", "const:X", "v | format:%A"])(
    "a fixed-width field without a width (%s) is refused",
    (spec) => {
      const [error] = errorsOf(spec);
      expect(error?.message).toMatch(/a fixed-width field needs a width/);
      expect(error?.expected).toMatch(/width:N, pic:…, lpad:N, rpad:N/);
    },
  );

  it.each([
    [{ width: 5 }, /exactly one of from or const/],
    [{ from: "a", const: "b", width: 5 }, /exactly one of from or const/],
    [{ from: "a", pad: "0" }, /align and pad need a width/],
    [{ from: "a", width: 0 }, /bad width/],
    [{ from: "a", width: 5, pad: "00" }, /bad pad/],
  ])("long form %j", (spec, message) => {
    expect(errorsOf(spec as FieldSpec)[0]?.message).toMatch(message);
  });

  it("refuses a COMP-3 picture outside fixed-width records", () => {
    expect(errorsOf("v | pic:S9(5) COMP-3", "json")[0]?.message).toMatch(/only possible in fixed-width records/);
  });

  it("refuses a multi-byte pad character for a UTF-8 fixed-width target", () => {
    const result = compileMapping(
      mappingConfig([targetConfig("utf8drop", "fixed-width", { F: "v | lpad:5,é" })]),
      connectors,
    );
    expect(result.errors[0]?.message).toMatch(/pad "é" is not a single-byte character/);
  });
});

describe("PII columns", () => {
  it.each(["ssn | width:11", "ssn | upper | width:11", "ssn | default:x | width:11"])(
    "%s leaves unmasked and is refused",
    (spec) => {
      const [error] = errorsOf(spec, "fixed-width", ["ssn"]);
      expect(error?.message).toMatch(/column ssn is listed in pii and must be masked, hashed or dropped/);
      expect(error?.expected).toBe("mask, hash or drop");
    },
  );

  it.each(["ssn | mask | width:11", "ssn | hash | width:64", "ssn | drop", "ssn | trim | hash:k | width:64"])(
    "%s is accepted",
    (spec) => {
      const result = compileMapping(
        mappingConfig([targetConfig("drop", "fixed-width", { F: spec, G: "id | width:3" })], { pii: ["ssn"] }),
        connectors,
      );
      expect(result.errors).toEqual([]);
    },
  );

  it("refuses a PII key column (the ordering key is logged)", () => {
    const result = compileMapping(
      mappingConfig([targetConfig("gis", "json", { F: "id" })], { pii: ["ssn"], source: { key: ["ssn"] } }),
      connectors,
    );
    expect(result.errors.map((e) => e.message)).toEqual([expect.stringMatching(/key column ssn is listed in pii/)]);
  });
});

describe("targets and mappings", () => {
  it("reports every error of every target, not just the first", () => {
    const mapping = mappingConfig([
      targetConfig("drop", "fixed-width", { A: "a | shout", B: "b", C: "c | width:3" }),
      targetConfig("nowhere", "json", { D: "d" }, { index: 1 }),
      targetConfig("gis", "json", { E: "e | format:%Q", F: "ssn" }, { index: 2 }),
    ]);
    const result = compileMapping({ ...mapping, pii: ["ssn"], timezone: "Mars/Olympus" }, connectors);
    expect(result.mapping).toBeUndefined();
    expect(result.errors.map((e) => [e.location.line, e.location.path.join("."), e.reason])).toEqual([
      [1, "timezone", expect.stringMatching(/unknown time zone "Mars\/Olympus"/)],
      [
        20,
        "targets.0.fields.A",
        'field A: unknown formatter "shout" (expected one of format, upper, lower, trim, width, lpad, rpad, number, pic, map, default, const, mask, hash, drop)',
      ],
      [21, "targets.0.fields.B", "field B: a fixed-width field needs a width (fix: B: b | width:10)"],
      [15, "targets.1.connector", 'unknown connector "nowhere"'],
      [20, "targets.2.fields.E", expect.stringMatching(/unknown strftime directive %Q/)],
      [21, "targets.2.fields.F", expect.stringMatching(/column ssn is listed in pii/)],
    ]);
  });

  it.each([
    ["drop", "soap", /cannot carry soap records/],
    ["gis", "csv", /cannot carry csv records/],
    ["county", "json", /cannot carry json records/],
  ] as const)("connector %s refuses format %s", (connector, format, message) => {
    const result = compileMapping(mappingConfig([targetConfig(connector, format, { F: "v | width:1" })]), connectors);
    expect(result.errors[0]?.message).toMatch(message);
  });

  it("refuses an encoding iconv-lite does not know, at the connector's file", () => {
    const result = compileMapping(
      mappingConfig([targetConfig("x", "csv", { F: "v" })]),
      connectorMap(sftpConnector("x", "klingon")),
    );
    expect(result.errors[0]?.message).toBe('connectors/x.yaml:1:1: encoding: unknown encoding "klingon"');
  });

  it.each([";;", '"', "\n", ""])("refuses the CSV delimiter %j", (delimiter) => {
    const result = compileMapping(
      mappingConfig([targetConfig("drop", "csv", { F: "v" }, { csv: { header: false, delimiter } })]),
      connectors,
    );
    expect(result.errors[0]?.message).toMatch(/bad CSV delimiter/);
  });

  it("refuses header records on a CSV target and batch columns in data records", () => {
    const result = compileMapping(
      mappingConfig([
        targetConfig("drop", "csv", { F: "v" }, { header: { H: "const:H" } }),
        targetConfig("drop", "fixed-width", { N: "_record_count | pic:9(5)" }, { index: 1 }),
      ]),
      connectors,
    );
    expect(result.errors.map((e) => e.reason)).toEqual([
      "a csv target cannot have header or trailer records",
      "field N: _record_count is only available in header and trailer records",
    ]);
  });

  it("refuses header fields that read row columns, unknown sums, and RECFM=F control records of another length", () => {
    const result = compileMapping(
      mappingConfig([
        targetConfig(
          "drop",
          "fixed-width",
          { ID: "id | width:6", AMOUNT: "amount | pic:S9(5)V99" },
          {
            terminator: "none",
            header: { TYPE: "const:H | width:1", WHO: "status | width:12" },
            trailer: { TYPE: "const:T | width:1", TOTAL: "_sum_AMOUNTS | pic:S9(7)V99" },
          },
        ),
      ]),
      connectors,
    );
    expect(result.errors.map((e) => e.reason)).toEqual([
      'field WHO: a header record cannot read the column "status"',
      "field TOTAL: _sum_AMOUNTS names no field of this target's records",
      "the trailer record is 10 bytes but the data records are 13 bytes",
    ]);
  });

  it("refuses a SOAP argument that is both a value and an object", () => {
    const result = compileMapping(
      mappingConfig([targetConfig("county", "soap", { Request: "a", "Request.Id": "b" })]),
      connectors,
    );
    expect(result.errors[0]?.reason).toBe("field Request.Id: Request is both a value and an object");
  });
});
