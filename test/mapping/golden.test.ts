// The SPEC's permit_status mapping, verbatim, rendered to the exact bytes each partner receives.
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { PgTimestampTz, type Row } from "../../src/change/value.js";
import { type CompiledTarget, compileMapping } from "../../src/mapping/index.js";
import {
  CONTEXT,
  connectorMap,
  mappingConfig,
  restConnector,
  sftpConnector,
  targetConfig,
} from "./mapping-builders.js";

/** The ASCII text converted by glibc's iconv, the reference for the code page's bytes. */
function glibcIconv(text: string, to: string): Buffer {
  try {
    return execFileSync("iconv", ["-f", "ASCII", "-t", to], { input: Buffer.from(text, "ascii") });
  } catch (error) {
    throw new Error(`this test needs glibc's iconv command (apt-get install libc-bin): ${String(error)}`);
  }
}

// mappings/permit_status.yaml from SPEC §3.3, as the loader resolves it.
const permitStatus = mappingConfig(
  [
    targetConfig("city_hall_cobol", "fixed-width", {
      PERMIT_ID: "id | width:10",
      STATUS: "status | width:10",
      TS: "updated_at | format:%Y%m%d%H%M%S",
    }),
    targetConfig("vdot_gis", "json", { permit_id: "id", status: "status | lower" }, { index: 1 }),
  ],
  {
    timezone: "America/New_York",
    pii: ["applicant_ssn"],
    source: {
      table: { schema: "public", name: "permits" },
      ops: ["insert", "update"],
      where: { status: ["APPROVED", "DENIED"] },
      key: ["id"],
    },
  },
);

const permit: Row = {
  id: "BP-802",
  status: "APPROVED",
  updated_at: new PgTimestampTz("2025-04-12T14:03:00Z"),
  applicant_ssn: "123-45-6789",
};

function compilePermitStatus(cityEncoding: string) {
  const result = compileMapping(
    permitStatus,
    connectorMap(sftpConnector("city_hall_cobol", cityEncoding), restConnector("vdot_gis")),
  );
  expect(result.errors).toEqual([]);
  return result.mapping!;
}

describe("SPEC permit_status mapping", () => {
  it("renders the city hall COBOL record with the timestamp in New York time and a CRLF", () => {
    const mapping = compilePermitStatus("ascii");
    const record = mapping.targets[0]!.render(permit, CONTEXT);
    expect(record.toString("latin1")).toBe("BP-802    APPROVED  20250412100300\r\n");
  });

  it("renders the city hall record in cp037 byte for byte as glibc iconv encodes it", () => {
    const mapping = compilePermitStatus("cp037");
    const record = mapping.targets[0]!.render(permit, CONTEXT);
    const expected = glibcIconv("BP-802    APPROVED  20250412100300\r\n", "IBM037");
    expect(record.toString("hex")).toBe(expected.toString("hex"));
    expect(record.length).toBe(36);
  });

  it("renders the GIS record as JSON with the status lower-cased", () => {
    const mapping = compilePermitStatus("cp037");
    expect(mapping.targets[1]!.render(permit, CONTEXT).toString("utf8")).toBe(
      '{"permit_id":"BP-802","status":"approved"}',
    );
  });

  it("takes approved and denied inserts and updates of public.permits only", () => {
    const mapping = compilePermitStatus("cp037");
    const table = { schema: "public", name: "permits" };
    expect(mapping.matches({ op: "update", table, row: permit })).toBe(true);
    expect(mapping.matches({ op: "insert", table, row: { ...permit, status: "DENIED" } })).toBe(true);
    expect(mapping.matches({ op: "update", table, row: { ...permit, status: "PENDING" } })).toBe(false);
    expect(mapping.matches({ op: "delete", table, row: { id: "BP-802" } })).toBe(false);
    expect(mapping.matches({ op: "update", table: { schema: "public", name: "hearings" }, row: permit })).toBe(false);
    expect(mapping.orderingKey(permit)).toBe("BP-802");
  });

  it("reads the rows of public.permits and of no other table", () => {
    const mapping = compilePermitStatus("cp037");
    expect(mapping.readsTable({ schema: "public", name: "permits" })).toBe(true);
    expect(mapping.readsTable({ schema: "public", name: "hearings" })).toBe(false);
    expect(mapping.readsTable({ schema: "archive", name: "permits" })).toBe(false);
  });
});

// SPEC §3.3's treasury_batch target: RECFM=F, 32-byte records, no terminator.
//   PERMIT-ID X(10)             10 bytes  left-justified, space-padded
//   AMOUNT    S9(7)V99           9 bytes  zoned decimal: 9 digits, implied point, the last
//                                         digit's zone nibble is the sign (C +, D -)
//   AMOUNT-P  S9(7)V99 COMP-3    5 bytes  packed: 9 digit nibbles + sign nibble = 10 nibbles
//   ISSUED    %Y%m%d             8 bytes
const treasury = mappingConfig(
  [
    targetConfig(
      "treasury_batch",
      "fixed-width",
      {
        "PERMIT-ID": "id | pic:X(10)",
        AMOUNT: "amount | pic:S9(7)V99",
        "AMOUNT-P": "amount | pic:S9(7)V99 comp-3",
        ISSUED: "updated_at | format:%Y%m%d",
      },
      { terminator: "none", overflow: "error", unmappable: "error" },
    ),
  ],
  { timezone: "America/New_York" },
);

function treasuryTarget(encoding: string): CompiledTarget {
  const result = compileMapping(treasury, connectorMap(sftpConnector("treasury_batch", encoding)));
  expect(result.errors).toEqual([]);
  return result.mapping!.targets[0]!;
}

function hex(...parts: string[]): string {
  return parts.join("").replace(/\s+/g, "").toLowerCase();
}

// cp037: 'B' C2, 'P' D7, '-' 60, '8' F8, '0' F0, '2' F2, space 40; digits are F0-F9 (zone F).
// Overpunched last digit: positive 0-9 → C0-C9 ('{', 'A'-'I'), negative 0-9 → D0-D9 ('}', 'J'-'R').
const CP037_ID = "C2 D7 60 F8 F0 F2 40 40 40 40"; // "BP-802    "
const CP037_ISSUED = "F2 F0 F2 F5 F0 F4 F1 F2"; // "20250412"
// ASCII: the same record with the customary overpunch characters {, A-I, }, J-R.
const ASCII_ID = "42 50 2D 38 30 32 20 20 20 20";
const ASCII_ISSUED = "32 30 32 35 30 34 31 32";

const treasuryCases = [
  {
    amount: "1234.56",
    // 1234.56 → 9 digits 000123456; last digit 6, positive → zone C: C6 (ASCII 'F' 46).
    cp037Zoned: "F0 F0 F0 F1 F2 F3 F4 F5 C6",
    asciiZoned: "30 30 30 31 32 33 34 35 46",
    // nibbles 0 0 0 1 2 3 4 5 6 C → 00 01 23 45 6C
    packed: "00 01 23 45 6C",
  },
  {
    amount: "-1234.56",
    // last digit 6, negative → zone D: D6 (ASCII 'O' 4F).
    cp037Zoned: "F0 F0 F0 F1 F2 F3 F4 F5 D6",
    asciiZoned: "30 30 30 31 32 33 34 35 4F",
    // sign nibble D
    packed: "00 01 23 45 6D",
  },
  {
    amount: "0",
    // zero is positive: last digit 0 with zone C → C0 (ASCII '{' 7B).
    cp037Zoned: "F0 F0 F0 F0 F0 F0 F0 F0 C0",
    asciiZoned: "30 30 30 30 30 30 30 30 7B",
    packed: "00 00 00 00 0C",
  },
  {
    amount: "-0.00",
    // negative zero is written as positive zero.
    cp037Zoned: "F0 F0 F0 F0 F0 F0 F0 F0 C0",
    asciiZoned: "30 30 30 30 30 30 30 30 7B",
    packed: "00 00 00 00 0C",
  },
  {
    amount: "9999999.99",
    // the largest S9(7)V99: last digit 9 positive → C9 (ASCII 'I' 49).
    cp037Zoned: "F9 F9 F9 F9 F9 F9 F9 F9 C9",
    asciiZoned: "39 39 39 39 39 39 39 39 49",
    packed: "99 99 99 99 9C",
  },
  {
    amount: "-9999999.99",
    // last digit 9 negative → D9 (ASCII 'R' 52).
    cp037Zoned: "F9 F9 F9 F9 F9 F9 F9 F9 D9",
    asciiZoned: "39 39 39 39 39 39 39 39 52",
    packed: "99 99 99 99 9D",
  },
  {
    amount: "0.07",
    // 000000007: last digit 7 positive → C7 (ASCII 'G' 47); packed 00 00 00 00 7C.
    cp037Zoned: "F0 F0 F0 F0 F0 F0 F0 F0 C7",
    asciiZoned: "30 30 30 30 30 30 30 30 47",
    packed: "00 00 00 00 7C",
  },
];

describe("SPEC treasury_batch target (RECFM=F, zoned and packed decimal)", () => {
  const row = (amount: string): Row => ({
    id: "BP-802",
    amount,
    updated_at: new PgTimestampTz("2025-04-12T14:03:00Z"),
  });

  it.each(treasuryCases)("amount $amount in cp037", ({ amount, cp037Zoned, packed }) => {
    const record = treasuryTarget("cp037").render(row(amount), CONTEXT);
    expect(record.toString("hex")).toBe(hex(CP037_ID, cp037Zoned, packed, CP037_ISSUED));
    expect(record.length).toBe(32);
  });

  it.each(treasuryCases)("amount $amount in ASCII", ({ amount, asciiZoned, packed }) => {
    const record = treasuryTarget("ascii").render(row(amount), CONTEXT);
    expect(record.toString("hex")).toBe(hex(ASCII_ID, asciiZoned, packed, ASCII_ISSUED));
  });

  it("reads the amount from an int8, a float or numeric text alike", () => {
    const target = treasuryTarget("cp037");
    const expected = hex(CP037_ID, "F0 F0 F0 F1 F2 F3 F4 F0 C0", "00 01 23 40 0C", CP037_ISSUED);
    for (const amount of [1234n, 1234, "1234", "1234.000", "1.234e3"]) {
      const record = target.render({ ...row("0"), amount }, CONTEXT);
      expect(record.toString("hex"), String(amount)).toBe(expected);
    }
  });

  it("dead-letters an amount of 10,000,000.00 (overflow: error) naming the field", () => {
    expect(() => treasuryTarget("cp037").render(row("10000000.00"), CONTEXT)).toThrowError(
      expect.objectContaining({ name: "MappingError", field: "AMOUNT", valueDescription: '"10000000.00"' }),
    );
  });

  it("assembles a RECFM=F drop body as the records back to back", () => {
    const target = treasuryTarget("cp037");
    const records = [target.render(row("1"), CONTEXT), target.render(row("-2"), CONTEXT)];
    const body = target.renderBatchBody(records, { createdAt: new Date("2025-04-12T15:00:00Z"), sequence: 1 });
    expect(body.length).toBe(64);
    expect(body.subarray(32).equals(records[1]!)).toBe(true);
  });
});
