// One transaction of a million rows on a mapped table, delivered to a file drop by an ESS process
// of its own (so its peak RSS is that of ESS alone), beside pg_recvlogical decoding the same
// transaction from a slot of its own.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { PG_RECVLOGICAL_CANDIDATES, rawWithPgRecvlogical } from "./capture-bench.js";
import { site } from "./e2e-bench.js";

export interface BigTxnBenchResult {
  readonly big_txn_rows: number;
  readonly big_txn_raw_rows_per_s: number;
  readonly big_txn_rows_per_s: number;
  readonly big_txn_ratio: number;
  readonly big_txn_peak_rss_mb: number;
  /** The peak of the V8 heap and of memory outside it (Buffers), sampled every 200 ms. */
  readonly big_txn_peak_heap_mb: number;
  readonly big_txn_peak_external_mb: number;
}

interface ChildReport {
  readonly seconds: number;
  readonly peakRssMb: number;
  readonly peakHeapMb: number;
  readonly peakExternalMb: number;
}

export const ESS_HEAP_FLAG = "--max-old-space-size=160";

const CHILD = fileURLToPath(new URL("./big-txn-child.ts", import.meta.url));

export async function measureBigTransaction(adminUrl: string, rows: number): Promise<BigTxnBenchResult> {
  const s = await site(adminUrl, "ess_bench_big");
  const client = new pg.Client({ connectionString: s.url });
  await client.connect();
  try {
    await client.query("select pg_create_logical_replication_slot('raw_big', 'pgoutput')");
    await client.query(
      "insert into permits (id, status, amount) select g, 'APPROVED', g % 1000 + 0.5 from generate_series(1, $1::bigint) g",
      [rows],
    );
    const end = await client.query<{ lsn: string }>("select pg_current_wal_lsn()::text as lsn");
    const tool = PG_RECVLOGICAL_CANDIDATES.find((p) => existsSync(p));
    if (!tool)
      throw new Error(`the big-transaction baseline needs pg_recvlogical (${PG_RECVLOGICAL_CANDIDATES.join(", ")})`);
    const rawSeconds = await rawWithPgRecvlogical(tool, s.url, end.rows[0]?.lsn ?? "0/0", "raw_big", "ess_pub");
    await client.query("select pg_drop_replication_slot('raw_big')");
    const report = await runChild(s.configPath, rows);
    const raw = rows / rawSeconds;
    const rate = rows / report.seconds;
    return {
      big_txn_rows: rows,
      big_txn_raw_rows_per_s: Math.round(raw),
      big_txn_rows_per_s: Math.round(rate),
      big_txn_ratio: Math.round((rate / raw) * 1000) / 1000,
      big_txn_peak_rss_mb: report.peakRssMb,
      big_txn_peak_heap_mb: report.peakHeapMb,
      big_txn_peak_external_mb: report.peakExternalMb,
    };
  } finally {
    await client.end();
    await rm(s.dir, { recursive: true, force: true });
  }
}

function runChild(configPath: string, rows: number): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    // The heap limit the README recommends for ESS (NODE_OPTIONS): without it V8 lets the heap
    // grow with garbage long before it collects, whatever the live set.
    const child = spawn(process.execPath, [ESS_HEAP_FLAG, "--import", "tsx", CHILD, configPath, String(rows)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      err += c.toString();
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code !== 0) {
        reject(new Error(`the big-transaction ESS process exited ${code}: ${err}`));
        return;
      }
      try {
        resolve(JSON.parse(out.trim().split("\n").at(-1) ?? "") as ChildReport);
      } catch (error) {
        reject(new Error(`the big-transaction ESS process printed no report: ${out} ${err}`, { cause: error }));
      }
    });
  });
}
