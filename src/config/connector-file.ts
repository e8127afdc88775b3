// Reads one connectors/<name>.yaml (SPEC §3.2): the adapter, encoding, batching, retries, window and heartbeat.
import { ADAPTER_KEYS, readDrop, readRest, readSftp, readSoap } from "./connector-adapters.js";
import { DEFAULTS } from "./defaults.js";
import { isKnownEncoding } from "./encodings.js";
import { readInboundAuth } from "./inbound-auth.js";
import { OBJECT_NAME, OBJECT_NAME_TEXT } from "./names.js";
import { parseSchedule, SCHEDULE_EXAMPLE } from "./schedule.js";
import type {
  AdapterKind,
  BatchPolicy,
  ConnectorConfig,
  HeartbeatPolicy,
  RetryPolicy,
  ScheduleWindow,
  SourceLocation,
} from "./types.js";
import type { MapReader, ValueReader } from "./yaml-reader.js";

const ADAPTERS: readonly AdapterKind[] = ["sftp", "file", "soap", "rest"];
const CONNECTOR_KEYS = [
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
];

/** What a connector file yielded: its name (for references) even when the rest is broken. */
export interface ReadConnector {
  readonly name?: string;
  readonly location: SourceLocation;
  /** Present only when the file had no error. */
  readonly config?: ConnectorConfig;
}

export function readConnector(document: ValueReader): ReadConnector {
  const errorsBefore = document.ctx.errors.length;
  const top = document.map(CONNECTOR_KEYS, "a connector (a mapping with name and adapter)");
  if (!top) return { location: document.location };
  const name = top.require("name", OBJECT_NAME_TEXT)?.matching(OBJECT_NAME, OBJECT_NAME_TEXT);
  const location = top.get("name")?.location ?? top.location;
  const adapter = top.require("adapter", `one of ${ADAPTERS.join(", ")}`)?.oneOf(ADAPTERS, "adapter");
  const common = {
    name: name ?? "",
    location,
    encoding: readEncoding(top.get("encoding")),
    batch: readBatch(top.get("batch")),
    retry: readRetry(top.get("retry")),
    heartbeat: readHeartbeat(top.get("heartbeat")),
    ordering: top.get("ordering")?.oneOf(["key", "connector", "none"], "ordering") ?? DEFAULTS.ordering,
    dryRun: top.get("dryRun")?.boolean() ?? DEFAULTS.dryRun,
    ...optional("schedule", readSchedule(top.get("schedule"))),
    ...optional("inbound", readInboundAuth(top.get("inbound"), "inbound")),
  };
  const config = adapter === undefined ? undefined : readAdapter(top, adapter, common);
  const clean = top.ctx.errors.length === errorsBefore;
  return { ...(name !== undefined ? { name } : {}), location, ...(clean && config ? { config } : {}) };
}

type Common = Omit<ConnectorConfig, "adapter" | "sftp" | "file" | "soap" | "rest">;

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
  switch (adapter) {
    case "sftp":
      return { ...common, adapter, sftp: readSftp(section) };
    case "file":
      return { ...common, adapter, file: readDrop(section, true) };
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
  const retry = value?.map(["maxAttempts", "initialDelay", "maxDelay"]);
  const policy = {
    maxAttempts: retry?.get("maxAttempts")?.integer({ min: 1, max: 1000 }) ?? DEFAULTS.retry.maxAttempts,
    initialDelayMs: retry?.get("initialDelay")?.duration() ?? DEFAULTS.retry.initialDelayMs,
    maxDelayMs: retry?.get("maxDelay")?.duration() ?? DEFAULTS.retry.maxDelayMs,
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

function readSchedule(value: ValueReader | undefined): ScheduleWindow | undefined {
  const text = value?.string(SCHEDULE_EXAMPLE);
  if (value === undefined || text === undefined) return undefined;
  // "always" lets a site switch a shipped window off through `${VAR:-Mon-Fri …}`.
  if (text.trim().toLowerCase() === "always") return undefined;
  const parsed = parseSchedule(text);
  if (parsed.ok) return parsed.window;
  return value.fail(parsed.reason, { expected: SCHEDULE_EXAMPLE, found: JSON.stringify(text) });
}
