// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} is configuration syntax here, not template literals
// Reads a connector's inbound side beyond callbacks: `pull:` (answer files on a drop connector,
// status polling on a rest connector) and `answers:` (an application table every answer is written to).
import { DEFAULTS } from "./defaults.js";
import { isKnownEncoding } from "./encodings.js";
import { parseTableRef, TABLE_REF_TEXT } from "./table-ref.js";
import type {
  AdapterKind,
  AnswerFieldPosition,
  AnswerFileField,
  AnswerFileLayout,
  AnswerStatus,
  AnswerTable,
  AnswerValue,
  PullConfig,
} from "./types.js";
import { urlCredentials, urlWithoutCredentials, withoutCredentials } from "./url-credentials.js";
import type { MapReader, ValueReader } from "./yaml-reader.js";

const FILE_PULL_KEYS = ["every", "dir", "file", "done", "format", "encoding", "fields", "statusCodes", "csv"];
const STATUS_PULL_KEYS = ["every", "url", "headers", "timeout", "giveUpAfter"];
const ANSWER_FIELDS: readonly AnswerFileField[] = ["correlationId", "status", "reference", "message"];
const ANSWER_VALUES: readonly AnswerValue[] = [
  "correlationId",
  "status",
  "reference",
  "message",
  "connector",
  "deliveryId",
  "receiptId",
  "receivedAt",
  "via",
];
const COLUMN = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const COLUMN_TEXT = "a column name (letters, digits and _)";
const FILE_PATTERN = /^[^/\\]+$/;
const DEFAULT_EVERY_MS = 60_000;
const DEFAULT_GIVE_UP_MS = 24 * 3_600_000;

export function readPull(
  value: ValueReader | undefined,
  adapter: AdapterKind | undefined,
  connectorEncoding: string,
): PullConfig | undefined {
  if (value === undefined || adapter === undefined) return undefined;
  if (adapter === "sftp" || adapter === "file") return readFilePull(value, connectorEncoding);
  if (adapter === "rest") return readStatusPull(value);
  return value.fail(`pull is not available for adapter ${adapter} (answer files: sftp or file; status polling: rest)`, {
    expected: "adapter sftp, file or rest",
    found: adapter,
  });
}

function readFilePull(value: ValueReader, connectorEncoding: string): PullConfig | undefined {
  const pull = value.map(FILE_PULL_KEYS, "answer files: dir, file, format, fields");
  if (!pull) return undefined;
  const dir = pull.require("dir", "the directory the partner writes answers to")?.string("a directory") ?? "";
  const file =
    pull.require("file", 'a file name pattern such as "ack_*.txt"')?.matching(FILE_PATTERN, "a file name pattern") ??
    "*";
  const done = pull.get("done")?.string("a directory") ?? `${dir.replace(/\/+$/, "")}/done`;
  const format = pull.require("format", "fixed-width or csv")?.oneOf(["fixed-width", "csv"], "format") ?? "csv";
  const encodingValue = pull.get("encoding");
  let encoding = encodingValue?.string("an encoding name") ?? connectorEncoding;
  if (encodingValue && !isKnownEncoding(encoding)) {
    encodingValue.fail(`unknown encoding ${JSON.stringify(encoding)}`, { expected: "an iconv-lite encoding" });
    encoding = connectorEncoding;
  }
  const csvSection = pull.get("csv")?.map(["header", "delimiter"]);
  const csv = {
    header: csvSection?.get("header")?.boolean() ?? DEFAULTS.csv.header,
    delimiter: csvSection?.get("delimiter")?.string("one character") ?? DEFAULTS.csv.delimiter,
  };
  const fields = readFields(pull.require("fields", "where correlationId and status are")?.map(ANSWER_FIELDS), format);
  const statusCodes: Record<string, AnswerStatus> = {};
  for (const entry of pull.get("statusCodes")?.map()?.entries() ?? []) {
    const status = entry.value.oneOf(["accepted", "rejected"], "status");
    if (status) statusCodes[entry.key] = status;
  }
  const layout: AnswerFileLayout | undefined =
    fields?.correlationId && fields.status
      ? {
          format,
          encoding,
          fields: { ...fields, correlationId: fields.correlationId, status: fields.status },
          statusCodes,
          csv,
        }
      : undefined;
  if (!layout) return undefined;
  return {
    kind: "files",
    everyMs: pull.get("every")?.duration() ?? DEFAULT_EVERY_MS,
    dir,
    file,
    done,
    layout,
  };
}

function readFields(
  fields: MapReader | undefined,
  format: "fixed-width" | "csv",
): { [F in AnswerFileField]?: AnswerFieldPosition } | undefined {
  if (!fields) return undefined;
  const result: { [F in AnswerFileField]?: AnswerFieldPosition } = {};
  for (const name of ANSWER_FIELDS) {
    const value = fields.get(name);
    if (value === undefined) {
      if (name === "correlationId" || name === "status") fields.require(name, "where this field is");
      continue;
    }
    const position = format === "fixed-width" ? fixedPosition(value) : csvPosition(value);
    if (position) result[name] = position;
  }
  return result;
}

function fixedPosition(value: ValueReader): AnswerFieldPosition | undefined {
  const slice = value.map(["start", "width"], "{ start, width } (columns counted from 1)");
  const start = slice?.require("start", "the first column (from 1)")?.integer({ min: 1, max: 100_000 });
  const width = slice?.require("width", "the number of columns")?.integer({ min: 1, max: 100_000 });
  return start !== undefined && width !== undefined ? { start, width } : undefined;
}

function csvPosition(value: ValueReader): AnswerFieldPosition | undefined {
  const scalar = value.scalar("a column number (from 1) or a header name");
  if (typeof scalar === "number" && Number.isInteger(scalar) && scalar >= 1) return { column: scalar };
  if (typeof scalar === "string" && scalar.trim() !== "") return { header: scalar.trim() };
  return value.fail("expected a column number (from 1) or a header name", {
    expected: "a column number or a header name",
  });
}

function readStatusPull(value: ValueReader): PullConfig | undefined {
  const pull = value.map(STATUS_PULL_KEYS, "status polling: url, every, giveUpAfter");
  if (!pull) return undefined;
  const urlValue = pull.require("url", "the status URL with {correlationId}");
  const url = urlValue?.string("an http(s) URL") ?? "";
  if (urlValue && url && (!/^https?:\/\//i.test(url) || !/\{(correlationId|token)\}/.test(url))) {
    urlValue.fail("the status URL must be http(s) and name {correlationId} or {token}", {
      expected: "https://partner/status/{correlationId}",
      found: JSON.stringify(urlCredentials(url).found.length > 0 ? urlWithoutCredentials(url) : url),
    });
  } else withoutCredentials(urlValue, url, 'pull.headers, e.g. headers: { Authorization: "Bearer ${TOKEN}" }');
  const headers: Record<string, string> = {};
  for (const entry of pull.get("headers")?.map()?.entries() ?? []) {
    const text = entry.value.text("a header value");
    if (text !== undefined) headers[entry.key] = text.value;
  }
  return {
    kind: "status",
    everyMs: pull.get("every")?.duration() ?? DEFAULT_EVERY_MS,
    url,
    headers,
    timeoutMs: pull.get("timeout")?.duration() ?? DEFAULTS.partnerTimeoutMs,
    giveUpAfterMs: pull.get("giveUpAfter")?.duration() ?? DEFAULT_GIVE_UP_MS,
  };
}

export function readAnswerTable(value: ValueReader | undefined): AnswerTable | undefined {
  const section = value?.map(["table", "key", "columns"], "an application table: table, columns, key");
  if (!section) return undefined;
  const tableValue = section.require("table", TABLE_REF_TEXT);
  const tableText = tableValue?.string(TABLE_REF_TEXT);
  const table = tableText === undefined ? undefined : parseTableRef(tableText);
  if (tableValue && tableText !== undefined && !table) {
    tableValue.fail(`${JSON.stringify(tableText)} is not ${TABLE_REF_TEXT}`, { expected: TABLE_REF_TEXT });
  }
  const key = (section.get("key")?.listOrOne("a list of columns") ?? [])
    .map((k) => k.matching(COLUMN, COLUMN_TEXT))
    .filter((k): k is string => k !== undefined);
  const columns: { column: string; value: AnswerValue }[] = [];
  const columnsMap = section.require("columns", "column: answer value pairs")?.map();
  for (const entry of columnsMap?.entries() ?? []) {
    if (!COLUMN.test(entry.key)) {
      entry.value.fail(`${JSON.stringify(entry.key)} is not ${COLUMN_TEXT}`, { expected: COLUMN_TEXT });
      continue;
    }
    const answerValue = entry.value.oneOf(ANSWER_VALUES, "answer value");
    if (answerValue) columns.push({ column: entry.key, value: answerValue });
  }
  for (const k of key) {
    if (!columns.some((c) => c.column === k)) {
      section.get("key")?.fail(`key column ${k} is not among the columns written`, { expected: "a written column" });
    }
  }
  if (!table || columns.length === 0) return undefined;
  return { table, key, columns };
}
