// Mapping throughput: the SPEC's city_hall_cobol target in cp037, rendered in-process, records per second on one core.
import { pathToFileURL } from "node:url";
import { PgTimestampTz, type Row } from "../src/change/value.js";
import type { ConnectorConfig, MappingConfig } from "../src/config/types.js";
import { compileMapping, type RenderContext } from "../src/mapping/index.js";

const here = { file: "bench/mapping-bench.ts", line: 1, column: 1, path: [] };

const mapping: MappingConfig = {
  name: "permit_status",
  location: here,
  source: {
    table: { schema: "public", name: "permits" },
    ops: ["insert", "update"],
    where: { status: ["APPROVED", "DENIED"] },
    key: ["id"],
  },
  timezone: "America/New_York",
  pii: ["applicant_ssn"],
  targets: [
    {
      connector: "city_hall_cobol",
      format: "fixed-width",
      terminator: "crlf",
      overflow: "error",
      unmappable: "error",
      csv: { header: false, delimiter: "," },
      location: here,
      fields: [
        { name: "PERMIT_ID", spec: "id | width:10", location: here },
        { name: "STATUS", spec: "status | width:10", location: here },
        { name: "TS", spec: "updated_at | format:%Y%m%d%H%M%S", location: here },
      ],
    },
  ],
};

const connector: ConnectorConfig = {
  name: "city_hall_cobol",
  location: here,
  adapter: "sftp",
  sftp: {
    host: "127.0.0.1",
    port: 22,
    username: "ess",
    hostKey: "SHA256:bench",
    dir: "/IN",
    file: "permit_{date:%Y%m%d}_{batch}.txt",
    mode: "file-per-batch",
    tempSuffix: ".part",
  },
  encoding: "cp037",
  batch: { maxRecords: 5000, maxWaitMs: 60_000 },
  retry: { maxAttempts: 8, initialDelayMs: 2000, maxDelayMs: 3_600_000, maxAgeMs: 86_400_000 },
  heartbeat: { everyMs: 30_000, offlineAfter: 3 },
  ordering: "key",
  dryRun: false,
};

/** Distinct synthetic permits over a year of timestamps, so the zone offset cache sees many hours. */
function syntheticRows(count: number): Row[] {
  const start = Date.parse("2025-01-01T00:00:00Z");
  const rows: Row[] = [];
  for (let i = 0; i < count; i++) {
    rows.push({
      id: `BP-${100_000 + i}`,
      status: i % 2 === 0 ? "APPROVED" : "DENIED",
      updated_at: new PgTimestampTz(new Date(start + i * 3_137_000).toISOString().replace(".000Z", "Z")),
      applicant_ssn: "123-45-6789",
    });
  }
  return rows;
}

/** Renders `records` rows (default 500,000) after a warm-up and reports the rate. */
export async function measureMapping(options: { records?: number } = {}): Promise<{ map_records_per_s: number }> {
  const records = options.records ?? 500_000;
  const result = compileMapping(mapping, new Map([[connector.name, connector]]));
  const target = result.mapping?.targets[0];
  if (!target)
    throw new Error(`the benchmark mapping does not compile: ${result.errors.map((e) => e.message).join("; ")}`);
  const rows = syntheticRows(10_000);
  const context: RenderContext = {
    op: "update",
    token: "bench",
    correlationId: "bench",
    commitTime: new Date("2025-04-12T14:03:00Z"),
  };
  let bytes = 0;
  for (let i = 0; i < 20_000; i++) bytes += target.render(rows[i % rows.length]!, context).length;
  const started = process.hrtime.bigint();
  for (let i = 0; i < records; i++) bytes += target.render(rows[i % rows.length]!, context).length;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  // Every record is 36 bytes; checking keeps the loop from being optimised away.
  if (bytes !== (records + 20_000) * 36) throw new Error(`unexpected output size ${bytes}`);
  return { map_records_per_s: Math.round(records / seconds) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  console.log(JSON.stringify(await measureMapping()));
}
