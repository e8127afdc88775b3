// npm run bench [-- --rows N] [-- --json]: throughput and latency figures beside a raw baseline from the same run.
import { parseArgs } from "node:util";
import { startEmbeddedPostgres } from "../test/support/embedded-server.js";
import { measureCapture } from "./capture-bench.js";

const { values } = parseArgs({
  options: {
    rows: { type: "string", default: "200000" },
    json: { type: "boolean", default: false },
  },
});
const rows = Number(values.rows);
if (!Number.isInteger(rows) || rows <= 0) {
  process.stderr.write(`--rows must be a positive whole number, got ${values.rows}\n`);
  process.exit(2);
}

const log = (line: string) => {
  if (!values.json) process.stdout.write(`${line}\n`);
};

const server = await startEmbeddedPostgres();
try {
  log(`ESS benchmark: ${rows} changes of a permits-like table (75% inserts, 25% updates) on embedded PostgreSQL 17`);
  const capture = await measureCapture(server.url(), rows);
  const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  const result = { ...capture, peak_rss_mb: peakRssMb };
  log(`raw decode (${capture.raw_tool} → /dev/null): ${capture.raw_rows_per_s.toLocaleString("en-US")} rows/s`);
  log(`ESS capture → ledger:                     ${capture.capture_rows_per_s.toLocaleString("en-US")} rows/s`);
  log(`ratio:                                    ${capture.ratio}`);
  log(`peak RSS:                                 ${peakRssMb} MB`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await server.stop();
}
