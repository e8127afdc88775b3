// Property: whatever text a field holds (quotes, delimiters, line breaks, unicode), csv-parse reads back exactly what was written.
import { parse } from "csv-parse/sync";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileMapping } from "../../src/mapping/index.js";
import { CONTEXT, connectorMap, mappingConfig, sftpConnector, targetConfig } from "./mapping-builders.js";

function csvTarget(delimiter: string) {
  const result = compileMapping(
    mappingConfig([targetConfig("drop", "csv", { a: "a", b: "b", c: "c" }, { csv: { header: true, delimiter } })]),
    connectorMap(sftpConnector("drop", "utf-8")),
  );
  expect(result.errors).toEqual([]);
  return result.mapping!.targets[0]!;
}

// Text biased towards the characters CSV must escape.
const tricky = fc.string({
  unit: fc.oneof(
    fc.constantFrom('"', ",", ";", "\t", "\r", "\n", "\r\n", " ", "'", "é", "東", "😀", "\u0000"),
    fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 }),
  ),
  maxLength: 24,
});

describe("CSV output", () => {
  it.each([",", ";", "\t", "|"])("round-trips through csv-parse with delimiter %j", (delimiter) => {
    const target = csvTarget(delimiter);
    fc.assert(
      fc.property(fc.array(fc.tuple(tricky, tricky, tricky), { minLength: 1, maxLength: 5 }), (rows) => {
        const records = rows.map(([a, b, c]) => target.render({ a, b, c }, CONTEXT));
        const body = target.renderBatchBody(records, { createdAt: new Date(0), sequence: 1 });
        // A reader that ends a record at any line break, as many do: a bare CR or LF in a field must be quoted.
        const parsed = parse(body.toString("utf8"), { delimiter, record_delimiter: ["\r\n", "\n", "\r"] });
        expect(parsed).toEqual([["a", "b", "c"], ...rows.map((row) => row.map((v) => v.normalize("NFC")))]);
      }),
      { numRuns: 300 },
    );
  });
});
