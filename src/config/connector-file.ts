// Reads one connectors/<name>.yaml (SPEC §3.2): the adapter, encoding, batching, retries, window and heartbeat.

import { isMap } from "yaml";
import { CONNECTOR_FORMATS_BY_ADAPTER } from "./adapter-formats.js";
import { ADAPTER_KEYS, readDrop, readFtp, readRest, readSftp, readSoap } from "./connector-adapters.js";
import { readAnswerTable, readPull } from "./connector-pull.js";
import { DEFAULTS } from "./defaults.js";
import { isKnownEncoding } from "./encodings.js";
import { readInboundAuth } from "./inbound-auth.js";
import { OBJECT_NAME, OBJECT_NAME_TEXT } from "./names.js";
import { isValidTimezone, parseSchedule, SCHEDULE_EXAMPLE } from "./schedule.js";
import { cronSchedule, dailySchedule, intervalSchedule, scheduleFromText } from "./schedule-clock.js";
import type {
  AdapterKind,
  BatchPolicy,
  ConnectorConfig,
  DeliverySchedule,
  HeartbeatPolicy,
  RecordFormat,
  RetryPolicy,
  SourceLocation,
} from "./types.js";
import type { MapReader, ValueReader } from "./yaml-reader.js";

export const ADAPTERS: readonly AdapterKind[] = ["sftp", "ftp", "file", "soap", "rest"];
export const CONNECTOR_KEYS = [
  "name",
  "adapter",
  ...ADAPTERS,
  "encoding",
  "batch",
  "retry",
  "schedule",
  "heartbeat",
  "ordering",
  "dryRun",
  "inbound",
  "pull",
  "answers",
  "timezone",
  "format",
  "dropFields",
];
const RECORD_FORMATS: readonly RecordFormat[] = ["fixed-width", "csv", "json", "soap"];
const TIMEZONE_TEXT = "an IANA time zone such as America/New_York or UTC";
const SCHEDULE_KEYS = ["every", "at", "days", "cron", "timezone"];

/** What a connector inherits from ess.yaml. */
export interface ConnectorDefaults {
  readonly timezone: string;
}

/** What a connector file yielded: its name (for references) even when the rest is broken. */
export interface ReadConnector {
  readonly name?: string;
  readonly location: SourceLocation;
  /** Present only when the file had no error. */
  readonly config?: ConnectorConfig;
}

export function readConnector(document: ValueReader, defaults: ConnectorDefaults): ReadConnector {
  const errorsBefore = document.ctx.errors.length;
  const top = document.map(CONNECTOR_KEYS, "a connector (a mapping with name and adapter)");
  if (!top) return { location: document.location };
  const name = top.require("name", OBJECT_NAME_TEXT)?.matching(OBJECT_NAME, OBJECT_NAME_TEXT);
  const location = top.get("name")?.location ?? top.location;
  const adapter = top.require("adapter", `one of ${ADAPTERS.join(", ")}`)?.oneOf(ADAPTERS, "adapter");
  const zoneValue = top.get("timezone");
  const zone = zoneValue?.matching(isValidTimezone, TIMEZONE_TEXT);
  const timezone = zone ?? defaults.timezone;
  const format = top.get("format")?.oneOf(RECORD_FORMATS, "format");
  const dropFields = top
    .get("dropFields")
    ?.listOrOne("a list of field names")
    ?.map((item) => item.string("a field name"))
    .filter((item): item is string => item !== undefined);
  const common = {
    name: name ?? "",
    timezone,
    ...(zone !== undefined ? { nameTimezone: zone } : {}),
    ...optional("format", format),
    ...(dropFields && dropFields.length > 0 ? { dropFields } : {}),
    location,
    encoding: readEncoding(top.get("encoding")),
    batch: readBatch(top.get("batch")),
    retry: readRetry(top.get("retry")),
    heartbeat: readHeartbeat(top.get("heartbeat")),
    ordering: top.get("ordering")?.oneOf(["key", "connector", "none"], "ordering") ?? DEFAULTS.ordering,
    dryRun: top.get("dryRun")?.boolean() ?? DEFAULTS.dryRun,
    ...optional("schedule", readSchedule(top.get("schedule"), timezone)),
    ...optional("inbound", readInboundAuth(top.get("inbound"), "inbound")),
    ...optional("answers", readAnswerTable(top.get("answers"))),
  };
  if (adapter !== undefined && format !== undefined && !CONNECTOR_FORMATS_BY_ADAPTER[adapter].includes(format)) {
    top.get("format")?.fail(`adapter ${adapter} cannot carry format ${format}`, {
      expected: CONNECTOR_FORMATS_BY_ADAPTER[adapter].join(" or "),
      found: format,
    });
  }
  checkSoapAttachment(top, adapter, format);
  const pull = readPull(top.get("pull"), adapter, common.encoding);
  const config =
    adapter === undefined ? undefined : readAdapter(top, adapter, { ...common, ...optional("pull", pull) });
  const clean = top.ctx.errors.length === errorsBefore;
  return { ...(name !== undefined ? { name } : {}), location, ...(clean && config ? { config } : {}) };
}

/** A SOAP connector carries CSV or fixed-width batches only in an attachment element, and only those. */
function checkSoapAttachment(top: MapReader, adapter: AdapterKind | undefined, format: RecordFormat | undefined) {
  if (adapter !== "soap") return;
  const section = top.get("soap");
  const attachment = section && isMap(section.node) ? section.map()?.get("attachment") : undefined;
  const batchFormat = format === "csv" || format === "fixed-width";
  if (batchFormat && section && !attachment) {
    top
      .get("format")
      ?.fail(
        `a SOAP connector carrying ${format} sends each batch as one call: name the operation's base64Binary element in soap.attachment`,
        {
          expected: "soap: { attachment: <element> }",
          found: "no soap.attachment",
        },
      );
  } else if (attachment && !batchFormat) {
    attachment.fail("attachment carries a csv or fixed-width batch: set the connector's format to csv or fixed-width", {
      expected: "format: csv or format: fixed-width",
      found: `format: ${format ?? "soap"}`,
    });
  }
}

type Common = Omit<ConnectorConfig, "adapter" | "sftp" | "ftp" | "file" | "soap" | "rest">;

function readAdapter(top: MapReader, adapter: AdapterKind, common: Common): ConnectorConfig | undefined {
  for (const other of ADAPTERS) {
    if (other !== adapter && top.has(other)) {
      top
        .get(other)
        ?.fail(`section "${other}" does not apply to adapter ${adapter} (expected a "${adapter}" section)`, {
          expected: `a "${adapter}" section`,
          found: `a "${other}" section`,
        });
    }
  }
  const section = top.require(adapter, `the ${adapter} settings`)?.map(ADAPTER_KEYS[adapter]);
  if (!section) return undefined;
  const dateZone = common.nameTimezone !== undefined ? { dateTimezone: common.nameTimezone } : {};
  switch (adapter) {
    case "sftp":
      return { ...common, adapter, sftp: { ...readSftp(section), ...dateZone } };
    case "ftp":
      return { ...common, adapter, ftp: { ...readFtp(section), ...dateZone } };
    case "file":
      return { ...common, adapter, file: { ...readDrop(section, true), ...dateZone } };
    case "soap":
      return { ...common, adapter, soap: readSoap(section) };
    case "rest":
      return { ...common, adapter, rest: readRest(section) };
  }
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function readEncoding(value: ValueReader | undefined): string {
  const name = value?.string("an encoding name");
  if (value === undefined || name === undefined) return DEFAULTS.encoding;
  if (!isKnownEncoding(name)) {
    value.fail(
      `unknown encoding ${JSON.stringify(name)} (expected an iconv-lite encoding such as utf-8, latin1, cp037, cp500, cp1047 or cp1140)`,
      {
        expected: "an iconv-lite encoding",
        found: JSON.stringify(name),
      },
    );
    return DEFAULTS.encoding;
  }
  return name;
}

function readBatch(value: ValueReader | undefined): BatchPolicy {
  const batch = value?.map(["maxRecords", "maxWait"]);
  return {
    maxRecords: batch?.get("maxRecords")?.integer({ min: 1, max: 1_000_000 }) ?? DEFAULTS.batch.maxRecords,
    maxWaitMs: batch?.get("maxWait")?.duration({ allowZero: true }) ?? DEFAULTS.batch.maxWaitMs,
  };
}

function readRetry(value: ValueReader | undefined): RetryPolicy {
  const retry = value?.map(["maxAttempts", "maxAge", "initialDelay", "maxDelay"]);
  const policy = {
    maxAttempts: retry?.get("maxAttempts")?.integer({ min: 1, max: 1000 }) ?? DEFAULTS.retry.maxAttempts,
    initialDelayMs: retry?.get("initialDelay")?.duration() ?? DEFAULTS.retry.initialDelayMs,
    maxDelayMs: retry?.get("maxDelay")?.duration() ?? DEFAULTS.retry.maxDelayMs,
    maxAgeMs: retry?.get("maxAge")?.duration() ?? DEFAULTS.retry.maxAgeMs,
  };
  if (retry && policy.maxDelayMs < policy.initialDelayMs) {
    (retry.get("maxDelay") ?? retry).fail("maxDelay is shorter than initialDelay", {
      expected: "maxDelay >= initialDelay",
    });
  }
  return policy;
}

function readHeartbeat(value: ValueReader | undefined): HeartbeatPolicy {
  const heartbeat = value?.map(["every", "offlineAfter"]);
  return {
    everyMs: heartbeat?.get("every")?.duration() ?? DEFAULTS.heartbeat.everyMs,
    offlineAfter: heartbeat?.get("offlineAfter")?.integer({ min: 1, max: 1000 }) ?? DEFAULTS.heartbeat.offlineAfter,
  };
}

function readSchedule(value: ValueReader | undefined, timezone: string): DeliverySchedule | undefined {
  if (value && isMap(value.node)) return readClockSchedule(value, timezone);
  const text = value?.string(SCHEDULE_EXAMPLE);
  if (value === undefined || text === undefined) return undefined;
  // "always" lets a site switch a shipped window off through `${VAR:-Mon-Fri …}`.
  if (text.trim().toLowerCase() === "always") return undefined;
  const parsed = parseSchedule(text);
  if (parsed.ok) return parsed.window;
  // Text that came through `${VAR:-…}` was not rewritten before reading: `every 60s`, `Mon-Fri at 06:00`.
  const written = scheduleFromText(text, timezone);
  if (written) return written.schedule;
  return value.fail(parsed.reason, { expected: SCHEDULE_EXAMPLE, found: JSON.stringify(text) });
}

const CLOCK_EXAMPLE = '{ every: 60s }, { at: "09:00", days: Mon-Fri } or { cron: "0 9 * * 1-5" }';

/** `{ every: 60s }`, `{ at: "09:00", days: Mon-Fri }` or `{ cron: "0 9 * * 1-5" }`, each with an optional timezone. */
function readClockSchedule(value: ValueReader, defaultZone: string): DeliverySchedule | undefined {
  const map = value.map(SCHEDULE_KEYS, CLOCK_EXAMPLE);
  if (!map) return undefined;
  const kinds = ["every", "at", "cron"].filter((key) => map.has(key));
  if (kinds.length !== 1) {
    return map.fail(
      kinds.length === 0 ? "a schedule needs every, at or cron" : `a schedule takes one of ${kinds.join(", ")}`,
      { expected: CLOCK_EXAMPLE },
    );
  }
  const timezone = map.get("timezone")?.matching(isValidTimezone, TIMEZONE_TEXT) ?? defaultZone;
  const every = map.get("every");
  if (every) {
    if (map.has("days")) map.get("days")?.fail("days apply to at, not every", { expected: "at with days" });
    const text = every.string("a duration such as 60s");
    if (text === undefined) return undefined;
    const parsed = intervalSchedule(text);
    return parsed.ok ? parsed.value : every.fail(parsed.reason, { expected: "a duration such as 60s" });
  }
  const at = map.get("at");
  if (at) {
    const times = at
      .listOrOne('a time such as "09:00" or a list of times')
      ?.map((item) => item.text("a time such as 09:00")?.value)
      .filter((item): item is string => item !== undefined);
    const days = map.get("days")?.string("days such as Mon-Fri");
    if (!times) return undefined;
    const parsed = dailySchedule(times, days, timezone);
    return parsed.ok ? parsed.value : at.fail(parsed.reason, { expected: CLOCK_EXAMPLE });
  }
  const cron = map.get("cron");
  const expression = cron?.string("a cron expression such as 0 9 * * 1-5");
  if (!cron || expression === undefined) return undefined;
  if (map.has("days")) map.get("days")?.fail("days apply to at; put them in the cron expression", {});
  const parsed = cronSchedule(expression, timezone);
  return parsed.ok
    ? parsed.value
    : cron.fail(parsed.reason, { expected: "minute hour day-of-month month day-of-week" });
}
