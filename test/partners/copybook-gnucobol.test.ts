// The copybook round trip through a COBOL compiler: the mainframe team's copybook is imported into a
// fixed-width EBCDIC target, a real delivery from PostgreSQL drops the file, the target's copybook
// is exported, and a GnuCOBOL program that COPYs it reads the drop file as shipped and prints
// every field. Its output must equal the source rows.
//
// GnuCOBOL runs on an ASCII machine and reads the file's bytes as they are: the program converts
// each DISPLAY item from EBCDIC itself (INSPECT … CONVERTING with the cp037 code points of the
// printable ASCII characters, taken from glibc's iconv, not from ESS) and is compiled with
// -fsign=EBCDIC so overpunched signs read as on the mainframe. COMP-3 and COMP items are read raw.
import { execFileSync } from "node:child_process";
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copybookCommand } from "../../src/cli/copybook.js";
import { runEssctl } from "../../src/cli/program.js";
import { type CopybookRecord, parseCopybook } from "../../src/mapping/copybook.js";
import { pictureClause } from "../../src/mapping/copybook-export.js";
import { formatStrftime } from "../../src/mapping/strftime.js";
import { waitFor } from "../support/capture-fixture.js";
import { createSite, type EssSite } from "../support/ess-site.js";
import { deliveriesOf } from "./ledger-watch.js";
import { type RunningEngine, runEngine } from "./running-engine.js";

const MAINFRAME_COPYBOOK = fileURLToPath(new URL("../fixtures/copybook/treasury.cpy", import.meta.url));

/** Fails loudly when the compiler is missing: the round trip is the point of this test. */
function requireCobc(): void {
  try {
    execFileSync("cobc", ["--version"], { stdio: "pipe" });
  } catch {
    throw new Error("cobc is missing: install GnuCOBOL (Debian: apt-get install -y gnucobol3; .ci/run does)");
  }
}

async function essctl(configPath: string, args: readonly string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (c: Buffer) => {
    out += c.toString("utf8");
  });
  stderr.on("data", (c: Buffer) => {
    err += c.toString("utf8");
  });
  const code = await runEssctl([copybookCommand], [...args, "--config", configPath], {
    stdout,
    stderr,
    env: {},
    signal: new AbortController().signal,
  });
  return { code, stdout: out, stderr: err };
}

/** The cp037 bytes of ASCII 0x20–0x7E, from glibc iconv: an implementation independent of ESS. */
function ebcdicOfPrintable(): { ebcdic: Buffer; ascii: Buffer } {
  const ascii = Buffer.from(Array.from({ length: 95 }, (_, i) => 0x20 + i));
  const ebcdic = execFileSync("iconv", ["-f", "ASCII", "-t", "IBM037"], { input: ascii });
  expect(ebcdic.length).toBe(95);
  return { ebcdic, ascii };
}

/** A 95-byte table as level-05 FILLERs of 16 bytes, each hex literal on its own line (column 72). */
function table(name: string, bytes: Buffer): string[] {
  const lines = [`       01  ${name}.`];
  for (let i = 0; i < bytes.length; i += 16) {
    const part = bytes.subarray(i, i + 16);
    lines.push(
      `           05  FILLER PIC X(${part.length})`,
      `               VALUE X"${part.toString("hex").toUpperCase()}".`,
    );
  }
  return lines;
}

/** The reader program: count the records, then print header, data records and trailer. */
function readerProgram(copybook: string): string {
  const { ebcdic, ascii } = ebcdicOfPrintable();
  const convert = (field: string) => [
    // (1:) makes it alphanumeric: INSPECT would otherwise read and restore a signed item's sign
    // in ASCII terms, before the conversion.
    `               INSPECT ${field}(1:)`,
    "                   CONVERTING EBCDIC-CHARS TO ASCII-CHARS",
  ];
  return [
    "       IDENTIFICATION DIVISION.",
    "       PROGRAM-ID. READDROP.",
    "       ENVIRONMENT DIVISION.",
    "       INPUT-OUTPUT SECTION.",
    "       FILE-CONTROL.",
    '           SELECT DROP-FILE ASSIGN TO "DROPIN"',
    "               ORGANIZATION IS SEQUENTIAL",
    "               FILE STATUS IS WS-STATUS.",
    "       DATA DIVISION.",
    "       FILE SECTION.",
    "       FD  DROP-FILE.",
    `           COPY "${copybook}".`,
    "       WORKING-STORAGE SECTION.",
    "       01  WS-STATUS             PIC XX.",
    "       01  WS-EOF                PIC X.",
    "       01  WS-COUNT              PIC 9(8) VALUE 0.",
    "       01  WS-AT                 PIC 9(8) VALUE 0.",
    "       01  E-AMOUNT              PIC -9(7).99.",
    "       01  E-AMOUNT-P            PIC -9(7).99.",
    "       01  E-FEE-1               PIC -9(5).99.",
    "       01  E-FEE-2               PIC -9(5).99.",
    "       01  E-UNITS               PIC 9(5).",
    "       01  E-TOTAL               PIC -9(11).99.",
    ...table("EBCDIC-CHARS", ebcdic),
    ...table("ASCII-CHARS", ascii),
    "       PROCEDURE DIVISION.",
    "           OPEN INPUT DROP-FILE",
    "           MOVE 'N' TO WS-EOF",
    "           PERFORM UNTIL WS-EOF = 'Y'",
    "               READ DROP-FILE",
    "                   AT END MOVE 'Y' TO WS-EOF",
    "                   NOT AT END ADD 1 TO WS-COUNT",
    "               END-READ",
    "           END-PERFORM",
    "           CLOSE DROP-FILE",
    "           OPEN INPUT DROP-FILE",
    "           MOVE 'N' TO WS-EOF",
    "           PERFORM UNTIL WS-EOF = 'Y'",
    "               READ DROP-FILE",
    "                   AT END MOVE 'Y' TO WS-EOF",
    "                   NOT AT END PERFORM SHOW-RECORD",
    "               END-READ",
    "           END-PERFORM",
    "           CLOSE DROP-FILE",
    "           STOP RUN.",
    "       SHOW-RECORD.",
    "           ADD 1 TO WS-AT",
    "           EVALUATE TRUE",
    "           WHEN WS-AT = 1",
    ...convert("TREASURY-PERMITS-HEADER"),
    "               DISPLAY 'H|' HDR-TYPE '|' HDR-DATE '|' HDR-SEQ",
    "           WHEN WS-AT = WS-COUNT",
    ...convert("TREASURY-PERMITS-TRAILER"),
    "               MOVE TRL-TOTAL TO E-TOTAL",
    "               DISPLAY 'T|' TRL-TYPE '|' TRL-COUNT '|' E-TOTAL",
    "           WHEN OTHER",
    ...convert("PERMIT-ID"),
    ...convert("PERMIT-STATE"),
    ...convert("AMOUNT"),
    "               MOVE AMOUNT TO E-AMOUNT",
    "               MOVE AMOUNT-P TO E-AMOUNT-P",
    "               MOVE FEE-1 TO E-FEE-1",
    "               MOVE FEE-2 TO E-FEE-2",
    "               MOVE UNITS TO E-UNITS",
    "               DISPLAY 'D|' PERMIT-ID '|' PERMIT-STATE '|' E-AMOUNT",
    "                   '|' E-AMOUNT-P '|' E-FEE-1 '|' E-FEE-2 '|' E-UNITS",
    "           END-EVALUATE.",
    "",
  ].join("\n");
}

/** A numeric text as the program's edited picture prints it: sign or space, zero-filled digits, point. */
function edited(text: string, integerDigits: number): string {
  const negative = text.startsWith("-");
  const [whole = "0", fraction = ""] = text.replace(/^-/, "").split(".");
  return `${negative ? "-" : " "}${whole.padStart(integerDigits, "0")}.${fraction.padEnd(2, "0")}`;
}

describe("copybooks both ways, through GnuCOBOL", () => {
  let site: EssSite;
  let engine: RunningEngine | undefined;

  beforeAll(async () => {
    requireCobc();
    site = await createSite("copybook-gnucobol", ({ dropDir }) => ({
      connectors: {
        treasury: [
          "name: treasury",
          "adapter: file",
          `file: { dir: ${dropDir}, file: "TREAS.B{batch}", mode: file-per-batch }`,
          "encoding: cp037",
          "batch: { maxRecords: 100, maxWait: 500ms }",
          "",
        ].join("\n"),
      },
      // Before the import: what the team had, with header and trailer values ESS fills in.
      mappings: {
        treasury_permits: [
          "# Permit fees for the treasury batch job.",
          "name: treasury_permits",
          "source: { table: public.permits }",
          "timezone: UTC",
          "targets:",
          "  - connector: treasury",
          "    format: fixed-width",
          "    terminator: none   # RECFM=F",
          "    fields:",
          "      PERMIT-ID: id | pic:X(10)",
          "      PERMIT-STATE: status | upper | width:8",
          "      AMOUNT: amount | number:2 | lpad:12,0",
          "      AMOUNT-P: amount | pic:S9(7)V99 comp-3",
          "    header:",
          "      HDR-TYPE: const:H | width:1",
          "      HDR-DATE: _created_at | format:%Y%m%d",
          "      HDR-SEQ: _sequence | pic:9(6)",
          "      HDR-PAD: { const: '', width: 20 }",
          "    trailer:",
          "      TRL-TYPE: const:T | width:1",
          "      TRL-COUNT: _record_count | pic:9(8)",
          "      TRL-TOTAL: _sum_AMOUNT | pic:S9(11)V99",
          "      TRL-PAD: { const: '', width: 13 }",
          "",
        ].join("\n"),
      },
    }));
    await site.db.query(
      "alter table permits add column fee_1 numeric(7,2), add column fee_2 numeric(7,2), add column units int",
    );
  });

  afterAll(async () => {
    await engine?.stop();
    await site?.cleanup();
  });

  it("imports the mainframe's copybook, delivers, exports it, and a COBOL program reads the drop as the source rows", async () => {
    // 1. Import: the target's fields become the copybook's layout.
    const copybook = join(site.dir, "treasury.cpy");
    copyFileSync(MAINFRAME_COPYBOOK, copybook);
    const imported = await essctl(site.configPath, ["copybook", "import", copybook, "--target", "treasury"]);
    expect(imported.stderr).toBe("");
    expect(imported.code).toBe(0);
    expect(imported.stdout).toContain("fields.PERMIT-ID: id | pic:X(10)    # kept");
    expect(imported.stdout).toContain("fields.AMOUNT: amount | pic:S9(7)V99    # column kept");
    expect(imported.stdout).toContain("fields.FEE-1: fee_1 | pic:S9(5)V99 COMP-3    # new");
    expect(imported.stdout).toContain("header.HDR-PAD: removed");
    const mappingFile = join(site.dir, "mappings", "treasury_permits.yaml");
    const written = readFileSync(mappingFile, "utf8");
    expect(written).toContain("# Permit fees for the treasury batch job.");
    expect(written).toMatch(/terminator: none +# RECFM=F/);

    // 2. A real delivery from PostgreSQL: one EBCDIC file with header and trailer.
    engine = await runEngine(await site.load());
    await site.db.query(
      `insert into permits (id, status, amount, fee_1, fee_2, units) values
         ('BP-1001', 'approved', 1234.50, 12.00, -3.25, 7),
         ('BP-1002', 'denied', -87.05, 0, 999.99, 0),
         ('BP-1003', 'approved', 0.01, 0, 5.5, 1200)`,
    );
    await waitFor("three deliveries sent", async () => {
      const sent = await deliveriesOf(site.db, "treasury");
      return sent.length === 3 && sent.every((d) => d.state === "sent");
    });
    const files = readdirSync(site.dropDir).filter((n) => /^TREAS\.B\d+$/.test(n));
    expect(files.length).toBeGreaterThan(0);

    // 3. Export the copybook and compile a reader that COPYs it.
    const exported = await essctl(site.configPath, ["copybook", "export", "treasury_permits", "treasury"]);
    expect(exported.stderr).toBe("");
    expect(exported.code).toBe(0);
    writeFileSync(join(site.dir, "treasury-export.cpy"), exported.stdout);
    // The layout that went back is the one that came in: every record, offset and picture.
    const shape = (records: readonly CopybookRecord[]) =>
      records.map((r) =>
        r.fields.map(
          (f) => `${f.offset}+${f.width} ${f.parsed.kind === "numeric" ? pictureClause(f.parsed) : `X(${f.width})`}`,
        ),
      );
    const theirs = parseCopybook(readFileSync(MAINFRAME_COPYBOOK, "utf8"), "treasury.cpy");
    const ours = parseCopybook(exported.stdout, "treasury-export.cpy");
    expect(shape(ours)).toEqual(shape(theirs));
    expect(ours.map((r) => r.fields.map((f) => f.name))).toEqual(theirs.map((r) => r.fields.map((f) => f.name)));
    writeFileSync(join(site.dir, "readdrop.cbl"), readerProgram("treasury-export.cpy"));
    execFileSync("cobc", ["-x", "-fsign=EBCDIC", "-o", "readdrop", "readdrop.cbl"], { cwd: site.dir, stdio: "pipe" });

    // 4. Run it on each drop file as shipped (EBCDIC bytes, no conversion outside the program).
    const output: string[] = [];
    for (const name of files.sort()) {
      const bytes = readFileSync(join(site.dropDir, name));
      expect(bytes.length % 46).toBe(0);
      const printed = execFileSync(join(site.dir, "readdrop"), [], {
        env: { ...process.env, DD_DROPIN: join(site.dropDir, name) },
      }).toString("latin1");
      output.push(...printed.split("\n").filter((l) => l !== ""));
    }

    // 5. What the program printed is the source rows, and each file's header and trailer.
    const rows = await site.db.query<{
      id: string;
      status: string;
      amount: string;
      fee_1: string;
      fee_2: string;
      units: number;
    }>("select id, status, amount::text, fee_1::text, fee_2::text, units from permits order by id");
    const data = rows.rows.map(
      (r) =>
        `D|${r.id.padEnd(10)}|${r.status.toUpperCase().padEnd(8)}|${edited(r.amount, 7)}|${edited(r.amount, 7)}|${edited(r.fee_1, 5)}|${edited(r.fee_2, 5)}|${String(r.units).padStart(5, "0")}`,
    );
    expect(output.filter((l) => l.startsWith("D|")).sort()).toEqual(data);
    const today = formatStrftime(new Date(), "%Y%m%d", "UTC");
    const headers = output.filter((l) => l.startsWith("H|"));
    expect(headers).toHaveLength(files.length);
    for (const [i, header] of headers.entries()) {
      const sequence = (files[i] ?? "").replace("TREAS.B", "").padStart(6, "0");
      expect(header).toBe(`H|H|${today}|${sequence}`);
    }
    const trailers = output.filter((l) => l.startsWith("T|"));
    expect(trailers).toHaveLength(files.length);
    const counted = trailers.reduce((n, t) => n + Number(t.split("|")[2]), 0);
    expect(counted).toBe(3);
    if (files.length === 1) {
      const total = await site.db.query<{ total: string }>("select sum(amount)::text as total from permits");
      expect(trailers[0]).toBe(`T|T|00000003|${edited(total.rows[0]?.total ?? "", 11)}`);
    }
    expect(output).toHaveLength(3 + 2 * files.length);
  });
});
