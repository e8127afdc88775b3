// npm run bench [-- --rows N] [-- --json]: throughput and latency figures beside a raw baseline measured in the same run.
import { parseArgs } from "node:util";
import { startEmbeddedPostgres } from "../test/support/embedded-server.js";
import { measureBigTransaction } from "./big-txn-bench.js";
import { measureCapture } from "./capture-bench.js";
import { measureDecode } from "./decode-bench.js";
import { measureEndToEnd } from "./e2e-bench.js";
import { measureMapping } from "./mapping-bench.js";

const { values } = parseArgs({
  options: {
    rows: { type: "string", default: "200000" },
    "e2e-rows": { type: "string", default: "100000" },
    "big-rows": { type: "string", default: "1000000" },
    json: { type: "boolean", default: false },
  },
});
const rows = Number(values.rows);
const e2eRows = Number(values["e2e-rows"]);
const bigRows = Number(values["big-rows"]);
for (const [name, n] of [
  ["--rows", rows],
  ["--e2e-rows", e2eRows],
  ["--big-rows", bigRows],
] as const) {
  if (!Number.isInteger(n) || n <= 0) {
    process.stderr.write(`${name} must be a positive whole number\n`);
    process.exit(2);
  }
}

const log = (line: string) => {
  if (!values.json) process.stdout.write(`${line}\n`);
};
const fmt = (n: number) => n.toLocaleString("en-US");

const server = await startEmbeddedPostgres();
try {
  log(`ESS benchmark on embedded PostgreSQL 17, ${rows} changes of a permits-like table (75% inserts, 25% updates)`);
  const capture = await measureCapture(server.url(), rows);
  log(`raw decode (${capture.raw_tool} → /dev/null):   ${fmt(capture.raw_rows_per_s)} rows/s`);
  log(`ESS capture → ledger:                      ${fmt(capture.capture_rows_per_s)} rows/s  (ratio ${capture.ratio})`);
  const decode = await measureDecode();
  log(`pgoutput decoding alone (in-process):      ${fmt(decode.decode_rows_per_s)} rows/s`);
  const mapping = await measureMapping();
  log(`mapping, SPEC fixed-width target in cp037: ${fmt(mapping.map_records_per_s)} records/s`);
  const e2e = await measureEndToEnd(server.url(), e2eRows);
  const e2eRatio = Math.round((e2e.e2e_rows_per_s / capture.raw_rows_per_s) * 1000) / 1000;
  log(
    `end to end, commit → file on disk:         ${fmt(e2e.e2e_rows_per_s)} rows/s  (ratio ${e2eRatio} to raw decode, ${fmt(e2eRows)} rows)`,
  );
  log(
    `latency at ${fmt(e2e.latency_rate_per_s)} changes/s (batch maxWait 200ms): p50 ${e2e.latency_p50_ms} ms, p99 ${e2e.latency_p99_ms} ms over ${fmt(e2e.latency_changes)} changes`,
  );
  log(
    `ledger after delivery: ${fmt(e2e.ledger_bytes_per_change)} bytes/change; WAL written: ${fmt(e2e.wal_bytes_per_change)} bytes/change (pg_stat_wal)`,
  );
  const big = await measureBigTransaction(server.url(), bigRows);
  log(
    `one transaction of ${fmt(bigRows)} rows → file: ${fmt(big.big_txn_rows_per_s)} rows/s (ratio ${big.big_txn_ratio} to pg_recvlogical's ${fmt(big.big_txn_raw_rows_per_s)}), ESS peak RSS ${big.big_txn_peak_rss_mb} MB`,
  );
  const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  log(`peak RSS of the bench process:             ${peakRssMb} MB`);
  process.stdout.write(
    `${JSON.stringify({ ...capture, ...decode, ...mapping, ...e2e, e2e_ratio: e2eRatio, ...big, peak_rss_mb: peakRssMb })}\n`,
  );
} finally {
  await server.stop();
}
