// The values SPEC §3 gives to everything an operator may leave out.
import type { BatchPolicy, HeartbeatPolicy, Ordering, RetryPolicy } from "./types.js";

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const DEFAULTS = {
  ledgerSchema: "ess",
  retention: { deliveredMs: 7 * DAY, auditMs: 400 * DAY },
  plugin: "pgoutput",
  replicationHeartbeatMs: 10 * SECOND,
  stallAfterMs: 5 * MINUTE,
  connectorsDir: "./connectors",
  mappingsDir: "./mappings",
  http: { host: "127.0.0.1", port: 9464 },
  encoding: "utf-8",
  batch: { maxRecords: 500, maxWaitMs: 1 * SECOND } satisfies BatchPolicy,
  // A partner's nightly maintenance window is hours long: a delivery is retried for a day (about
  // 150 attempts at up to 10 minutes apart before maxAge ends it), and 500 attempts never cut that short.
  retry: {
    maxAttempts: 500,
    initialDelayMs: 2 * SECOND,
    maxDelayMs: 10 * MINUTE,
    maxAgeMs: 1 * DAY,
  } satisfies RetryPolicy,
  heartbeat: { everyMs: 30 * SECOND, offlineAfter: 3 } satisfies HeartbeatPolicy,
  ordering: "key" satisfies Ordering,
  dryRun: false,
  sftpPort: 22,
  ftpPort: 21,
  dropMode: "file-per-batch",
  tempSuffix: ".part",
  partnerTimeoutMs: 10 * SECOND,
  restMethod: "POST",
  ops: ["insert", "update", "delete"],
  timezone: "UTC",
  sourceSchema: "public",
  terminator: "crlf",
  overflow: "error",
  unmappable: "error",
  csv: { header: true, delimiter: "," },
} as const;
