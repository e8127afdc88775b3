// Reads a partner's answer file (fixed-width in its code page, or CSV) into answers: correlation
// id, verdict, reference and message per line; a line that cannot be read is reported with its
// number and reason instead of stopping the file.
import { parse } from "csv-parse/sync";
import type { AnswerFieldPosition, AnswerFileField, AnswerFileLayout, AnswerStatus } from "../config/types.js";
import { textCodec } from "./text-codec.js";

export interface FileAnswer {
  /** 1-based line (fixed-width) or record (CSV, counting the header) in the file. */
  readonly line: number;
  readonly correlationId: string;
  readonly status: AnswerStatus;
  readonly reference: string | null;
  readonly message: string | null;
  /** The line's fields as read, stored with the answer. */
  readonly fields: Readonly<Record<string, string>>;
}

export interface UnreadableLine {
  readonly line: number;
  readonly text: string;
  readonly reason: string;
}

export interface ParsedAnswerFile {
  readonly answers: readonly FileAnswer[];
  readonly unreadable: readonly UnreadableLine[];
}

/** EBCDIC files end lines with NL (U+0085) as often as with LF; CR LF comes from ASCII hosts. */
const LINE_BREAK = /\r\n|\n|\r|\u0085/;
const CORRELATION_TEXT = /^[\x21-\x7e]{1,200}$/;

export function parseAnswerFile(bytes: Buffer, layout: AnswerFileLayout): ParsedAnswerFile {
  const text = textCodec(layout.encoding, "substitute").decode(bytes);
  return layout.format === "fixed-width" ? parseFixedWidth(text, layout) : parseCsv(text, layout);
}

function parseFixedWidth(text: string, layout: AnswerFileLayout): ParsedAnswerFile {
  const answers: FileAnswer[] = [];
  const unreadable: UnreadableLine[] = [];
  text.split(LINE_BREAK).forEach((line, index) => {
    if (line.trim() === "") return;
    const fields: Record<string, string> = {};
    for (const [name, position] of Object.entries(layout.fields) as [AnswerFileField, AnswerFieldPosition][]) {
      if (!("start" in position)) continue;
      fields[name] = line.slice(position.start - 1, position.start - 1 + position.width).trim();
    }
    const read = toAnswer(index + 1, fields, layout);
    if ("reason" in read) unreadable.push({ line: index + 1, text: line, reason: read.reason });
    else answers.push(read);
  });
  return { answers, unreadable };
}

function parseCsv(text: string, layout: AnswerFileLayout): ParsedAnswerFile {
  let records: string[][];
  try {
    records = parse(text, {
      delimiter: layout.csv.delimiter,
      relax_column_count: true,
      skip_empty_lines: true,
      bom: true,
    }) as string[][];
  } catch (error) {
    const line = Number((error as { lines?: unknown }).lines) || 1;
    return { answers: [], unreadable: [{ line, text: "", reason: `not CSV: ${(error as Error).message}` }] };
  }
  const answers: FileAnswer[] = [];
  const unreadable: UnreadableLine[] = [];
  const header = layout.csv.header ? (records.shift() ?? []) : [];
  const first = layout.csv.header ? 2 : 1;
  records.forEach((record, index) => {
    const fields: Record<string, string> = {};
    const missing: string[] = [];
    for (const [name, position] of Object.entries(layout.fields) as [AnswerFileField, AnswerFieldPosition][]) {
      const column =
        "column" in position ? position.column - 1 : "header" in position ? header.indexOf(position.header) : -1;
      if (column < 0) {
        missing.push(
          `${name} (no column ${"header" in position ? JSON.stringify(position.header) : "?"} in the header)`,
        );
        continue;
      }
      fields[name] = (record[column] ?? "").trim();
    }
    const line = first + index;
    if (missing.length > 0) {
      unreadable.push({ line, text: record.join(layout.csv.delimiter), reason: `cannot find ${missing.join(", ")}` });
      return;
    }
    const read = toAnswer(line, fields, layout);
    if ("reason" in read) unreadable.push({ line, text: record.join(layout.csv.delimiter), reason: read.reason });
    else answers.push(read);
  });
  return { answers, unreadable };
}

function toAnswer(
  line: number,
  fields: Readonly<Record<string, string>>,
  layout: AnswerFileLayout,
): FileAnswer | { reason: string } {
  const correlationId = fields.correlationId ?? "";
  if (!CORRELATION_TEXT.test(correlationId)) {
    return { reason: `correlationId ${JSON.stringify(correlationId)} is not a correlation id or token` };
  }
  const code = fields.status ?? "";
  const status = statusOf(code, layout.statusCodes);
  if (!status) {
    const known = ["accepted", "rejected", ...Object.keys(layout.statusCodes)].join(", ");
    return { reason: `status ${JSON.stringify(code)} is none of ${known}` };
  }
  return {
    line,
    correlationId,
    status,
    reference: fields.reference ? fields.reference : null,
    message: fields.message ? fields.message : null,
    fields,
  };
}

function statusOf(code: string, codes: Readonly<Record<string, AnswerStatus>>): AnswerStatus | undefined {
  const mapped = codes[code];
  if (mapped) return mapped;
  const lower = code.toLowerCase();
  return lower === "accepted" || lower === "rejected" ? lower : undefined;
}
