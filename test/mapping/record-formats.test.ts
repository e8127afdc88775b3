// CSV, JSON, SOAP and fixed-width batch files: the records and drop file bodies partners receive.
import { parse } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import { PgDate, type Row } from "../../src/change/value.js";
import { type CompiledTarget, compileMapping, MappingError } from "../../src/mapping/index.js";
import {
  CONTEXT,
  connectorMap,
  type FieldList,
  mappingConfig,
  restConnector,
  sftpConnector,
  soapConnector,
  targetConfig,
} from "./mapping-builders.js";

const BATCH = { createdAt: new Date("2025-04-12T22:15:00Z"), sequence: 42 };

function compileTarget(...args: Parameters<typeof targetConfig>): CompiledTarget {
  const encoding = args[0] === "drop-cp037" ? "cp037" : "latin1";
  const result = compileMapping(
    mappingConfig([targetConfig(...args)], { timezone: "America/New_York" }),
    connectorMap(sftpConnector(args[0], encoding), restConnector("gis"), soapConnector("county")),
  );
  expect(result.errors.map((e) => e.message)).toEqual([]);
  return result.mapping!.targets[0]!;
}

describe("CSV records", () => {
  const fields: FieldList = { id: "id", name: "name", note: "note | default:-" };

  it("quotes only what RFC 4180 requires and ends each record with CRLF", () => {
    const target = compileTarget("drop", "csv", fields);
    const record = target.render({ id: 7, name: 'Smith, "Jr."', note: "line1\nline2" }, CONTEXT);
    expect(record.toString("latin1")).toBe('7,"Smith, ""Jr.""","line1\nline2"\r\n');
    expect(target.render({ id: 8, name: "", note: null }, CONTEXT).toString("latin1")).toBe("8,,-\r\n");
  });

  it("quotes a lone carriage return", () => {
    const target = compileTarget("drop", "csv", fields);
    expect(target.render({ id: 1, name: "a\rb", note: "x" }, CONTEXT).toString("latin1")).toBe('1,"a\rb",x\r\n');
  });

  it("uses the configured delimiter and writes the header row once per file", () => {
    const target = compileTarget("drop", "csv", fields, { csv: { header: true, delimiter: ";" } });
    const records = [
      target.render({ id: 1, name: "a;b", note: "x" }, CONTEXT),
      target.render({ id: 2, name: "c", note: "y" }, CONTEXT),
    ];
    expect(target.renderBatchBody(records, BATCH).toString("latin1")).toBe('id;name;note\r\n1;"a;b";x\r\n2;c;y\r\n');
    expect(parse(target.renderBatchBody(records, BATCH), { delimiter: ";", columns: true })).toEqual([
      { id: "1", name: "a;b", note: "x" },
      { id: "2", name: "c", note: "y" },
    ]);
  });

  it("encodes the line in the connector's encoding and reports an unmappable field by name", () => {
    const target = compileTarget("drop", "csv", { name: "name" }, { unmappable: "error" });
    expect(target.render({ name: "José" }, CONTEXT).toString("hex")).toBe("4a6f73e90d0a");
    expect(() => target.render({ name: "東京" }, CONTEXT)).toThrowError(
      expect.objectContaining({ field: "name", reason: expect.stringMatching(/U\+6771/) }),
    );
  });
});

describe("JSON and SOAP records", () => {
  it("writes the fields in declaration order as UTF-8 JSON", () => {
    const target = compileTarget("gis", "json", {
      permit_id: "id",
      status: "status | lower",
      amount: "amount | number:2",
      issued: "issued | format:%Y-%m-%d",
      city: "city | upper",
    });
    const record = target.render(
      { id: 802, status: "APPROVED", amount: "12.5", issued: new PgDate("2025-04-12"), city: "東京" },
      CONTEXT,
    );
    expect(record.toString("utf8")).toBe(
      '{"permit_id":802,"status":"approved","amount":12.50,"issued":"2025-04-12","city":"東京"}',
    );
    expect(record.equals(Buffer.from(record.toString("utf8"), "utf8"))).toBe(true);
  });

  it("builds SOAP arguments, dotted names as nested objects", () => {
    const target = compileTarget("county", "soap", {
      "Request.FamilyId": "family",
      "Request.NewDate": "new_date | format:%Y-%m-%d",
      Token: "_token",
    });
    const record = target.render({ family: "A123", new_date: "2024-05-04" }, CONTEXT);
    expect(JSON.parse(record.toString("utf8"))).toEqual({
      Request: { FamilyId: "A123", NewDate: "2024-05-04" },
      Token: "tok-7f3a",
    });
    expect(record.toString("utf8")).toBe('{"Request":{"FamilyId":"A123","NewDate":"2024-05-04"},"Token":"tok-7f3a"}');
  });

  it("assembles a JSON drop body as one document per line", () => {
    const target = compileTarget("gis", "json", { id: "id" });
    const records = [target.render({ id: 1 }, CONTEXT), target.render({ id: 2 }, CONTEXT)];
    expect(target.renderBatchBody(records, BATCH).toString()).toBe('{"id":1}\n{"id":2}\n');
  });
});

describe("fixed-width batch files with header and trailer records", () => {
  const fields: FieldList = {
    TYPE: "const:D | width:1",
    ID: "id | width:6",
    AMOUNT: "amount | pic:S9(5)V99",
    PACKED: "amount | pic:S9(5)V99 comp-3",
    FEE: "fee | number:2 | lpad:8",
  };
  const options = {
    header: {
      TYPE: "const:H | width:1",
      DATE: "_created_at | format:%Y%m%d",
      SEQ: "_sequence | pic:9(4)",
      FILL: "const: | width:11",
    },
    trailer: {
      TYPE: "const:T | width:1",
      COUNT: "_record_count | pic:9(4)",
      TOTAL: "_sum_AMOUNT | pic:S9(7)V99",
      PTOTAL: "_sum_PACKED | pic:S9(5)V99",
      FEES: "_sum_FEE | number:2 | lpad:10",
    },
  };
  const rows: Row[] = [
    { id: "A1", amount: "100.25", fee: "1.5" },
    { id: "A2", amount: "-0.50", fee: "2" },
    { id: "A3", amount: "12345.67", fee: "0.25" },
  ];

  it("writes a header and a trailer with the count and totals read back from the records", () => {
    const target = compileTarget("drop", "fixed-width", fields, { terminator: "lf", ...options });
    const records = rows.map((row) => target.render(row, CONTEXT));
    // TYPE ID(6) | zoned S9(5)V99, 7 bytes | packed S9(5)V99: 7 digits + sign = 4 bytes | FEE(8) | LF
    expect(records.map((r) => r.toString("hex"))).toEqual([
      // "D" "A1    " | "001002E" (100.25, +5 → E) | 00 10 02 5C | "    1.50"
      "44" + "413120202020" + "30303130303245" + "0010025c" + "20202020312e3530" + "0a",
      // -0.50 → "000005}" (-0 → }) | 00 00 05 0D
      "44" + "413220202020" + "3030303030357d" + "0000050d" + "20202020322e3030" + "0a",
      // 12345.67 → "123456G" (+7 → G) | 12 34 56 7C
      "44" + "413320202020" + "31323334353647" + "1234567c" + "20202020302e3235" + "0a",
    ]);
    const body = target.renderBatchBody(records, BATCH).toString("latin1").split("\n");
    // created 2025-04-12T22:15Z = 18:15 EDT on the 12th; batch 42.
    expect(body[0]).toBe("H202504120042           ");
    // 100.25 - 0.50 + 12345.67 = 12445.42 → S9(7)V99 "00124454B" (+2 → B), S9(5)V99 "124454B";
    // fees 1.50 + 2.00 + 0.25 = 3.75.
    expect(body[4]).toBe("T0003" + "00124454B" + "124454B" + "      3.75");
    expect(body).toHaveLength(6);
  });

  it("keeps RECFM=F control records at the data record length, in EBCDIC", () => {
    const target = compileTarget(
      "drop-cp037",
      "fixed-width",
      { ID: "id | width:4", AMOUNT: "amount | pic:S9(3)V99" },
      {
        terminator: "none",
        header: { TYPE: "const:HDR | width:3", SEQ: "_sequence | pic:9(6)" },
        trailer: { TYPE: "const:TRL | width:3", TOTAL: "_sum_AMOUNT | pic:S9(4)V99" },
      },
    );
    const records = [
      target.render({ id: "X", amount: "1.01" }, CONTEXT),
      target.render({ id: "Y", amount: "-3" }, CONTEXT),
    ];
    const body = target.renderBatchBody(records, BATCH);
    expect(body.length).toBe(4 * 9);
    // HDR 000042: C8 C4 D9 F0 F0 F0 F0 F4 F2
    expect(body.subarray(0, 9).toString("hex")).toBe("c8c4d9f0f0f0f0f4f2");
    // 1.01 - 3.00 = -1.99 → S9(4)V99 00019 + 9 negative (R, D9): F0 F0 F0 F1 F9 D9
    expect(body.subarray(27).toString("hex")).toBe("e3d9d3f0f0f0f1f9d9");
  });

  it("refuses records of another length when totalling", () => {
    const target = compileTarget("drop", "fixed-width", fields, { terminator: "lf", ...options });
    expect(() => target.renderBatchBody([Buffer.from("short\n")], BATCH)).toThrowError(MappingError);
  });
});
