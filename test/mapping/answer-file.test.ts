import iconv from "iconv-lite";
import { describe, expect, it } from "vitest";
import type { AnswerFileLayout } from "../../src/config/types.js";
import { parseAnswerFile } from "../../src/mapping/answer-file.js";
import { registerEbcdicCodecs } from "../../src/mapping/index.js";

const FIXED: AnswerFileLayout = {
  format: "fixed-width",
  encoding: "cp037",
  fields: {
    correlationId: { start: 1, width: 28 },
    status: { start: 29, width: 1 },
    reference: { start: 30, width: 10 },
    message: { start: 40, width: 30 },
  },
  statusCodes: { A: "accepted", R: "rejected" },
  csv: { header: true, delimiter: "," },
};

const CSV: AnswerFileLayout = {
  ...FIXED,
  format: "csv",
  encoding: "utf-8",
  fields: { correlationId: { header: "corr" }, status: { column: 2 }, message: { header: "why" } },
  statusCodes: {},
};

function line(correlation: string, status: string, reference: string, message: string): string {
  return correlation.padEnd(28) + status.padEnd(1) + reference.padEnd(10) + message.padEnd(30);
}

describe("answer files", () => {
  registerEbcdicCodecs();

  it("reads cp037 fixed-width answers, with the partner's codes, references and reasons", () => {
    const text = `${line("ess-aaaaaaaaaaaaaaaaaaaaaaaa", "A", "CH-1", "")}\r\n${line("ess-bbbbbbbbbbbbbbbbbbbbbbbb", "R", "CH-2", "FEE NOT PAID")}\r\n`;
    const bytes = iconv.encode(text, "cp037");
    expect(bytes[0]).toBe(0x85); // "e" in cp037: the file really is EBCDIC
    const parsed = parseAnswerFile(bytes, FIXED);
    expect(parsed.unreadable).toEqual([]);
    expect(parsed.answers.map(({ fields: _, ...a }) => a)).toEqual([
      { line: 1, correlationId: "ess-aaaaaaaaaaaaaaaaaaaaaaaa", status: "accepted", reference: "CH-1", message: null },
      {
        line: 2,
        correlationId: "ess-bbbbbbbbbbbbbbbbbbbbbbbb",
        status: "rejected",
        reference: "CH-2",
        message: "FEE NOT PAID",
      },
    ]);
  });

  it("reports a line it cannot read by number and reason, and reads the others", () => {
    const text = [
      line("ess-aaaaaaaaaaaaaaaaaaaaaaaa", "X", "", ""),
      "",
      line("", "A", "", ""),
      line("tok-1", "R", "", "no"),
    ].join("\u0085");
    const parsed = parseAnswerFile(iconv.encode(text, "cp037"), FIXED);
    expect(parsed.answers.map((a) => [a.line, a.correlationId, a.status])).toEqual([[4, "tok-1", "rejected"]]);
    expect(parsed.unreadable.map((u) => [u.line, u.reason])).toEqual([
      [1, 'status "X" is none of accepted, rejected, A, R'],
      [3, 'correlationId "" is not a correlation id or token'],
    ]);
  });

  it("reads CSV answers by header name or column number", () => {
    const text = 'corr,status,why\r\ness-1,accepted,\r\n"ess-2",REJECTED,"late, and incomplete"\r\n';
    const parsed = parseAnswerFile(Buffer.from(text), CSV);
    expect(parsed.answers.map((a) => [a.line, a.correlationId, a.status, a.message])).toEqual([
      [2, "ess-1", "accepted", null],
      [3, "ess-2", "rejected", "late, and incomplete"],
    ]);
  });

  it("names the missing header column on every line instead of guessing", () => {
    const parsed = parseAnswerFile(Buffer.from("id,status\r\ness-1,accepted\r\n"), CSV);
    expect(parsed.answers).toEqual([]);
    expect(parsed.unreadable[0]?.reason).toMatch(/correlationId \(no column "corr" in the header\)/);
  });
});
