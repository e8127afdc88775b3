// Measures the raw decode rate of a server (pg_recvlogical into /dev/null, or a bare
// pg-logical-replication consumer) and ESS's capture-to-ledger rate on the same changes.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import pg from "pg";
import { LogicalReplicationService, PgoutputPlugin } from "pg-logical-replication";
import { CaptureService } from "../src/capture/capture-service.js";
import { parseLsn } from "../src/change/lsn.js";
import { migrate } from "../src/ledger/migrate.js";
import { silentLogger } from "../src/ops/logger.js";

export interface CaptureBenchResult {
  readonly rows: number;
  readonly raw_tool: string;
  readonly raw_rows_per_s: number;
  readonly capture_rows_per_s: number;
  readonly ratio: number;
}

export const PG_RECVLOGICAL_CANDIDATES = [
  "/usr/bin/pg_recvlogical",
  "/usr/lib/postgresql/17/bin/pg_recvlogical",
  "/usr/lib/postgresql/15/bin/pg_recvlogical",
];

/**
 * The raw decode runs this many times, each from a slot of its own at the same start, and the
 * fastest counts: one run of a few seconds varies by a third from run to run on a shared
 * machine, and a slow baseline would flatter every ratio measured against it.
 */
const RAW_RUNS = 3;

export async function prepareBenchDatabase(url: string, rows: number): Promise<{ endLsn: string; changes: number }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`
      create table if not exists public.permits (
        id bigint primary key, permit_no text not null, status text not null, amount numeric(12,2),
        applicant text, district text, issued_on date, updated_at timestamptz not null default now(),
        inspector_id integer, notes text)`);
    await client.query("create publication ess_pub for table public.permits");
    for (let i = 1; i <= RAW_RUNS; i++) {
      await client.query(`select pg_create_logical_replication_slot('raw_bench_${i}', 'pgoutput')`);
    }
    await client.query("select pg_create_logical_replication_slot('ess_main', 'pgoutput')");
    const inserts = Math.round(rows * 0.75);
    const updates = rows - inserts;
    const chunk = 10_000;
    for (let start = 1; start <= inserts; start += chunk) {
      const end = Math.min(inserts, start + chunk - 1);
      await client.query(
        `insert into permits (id, permit_no, status, amount, applicant, district, issued_on, inspector_id, notes)
         select g, 'BP-' || g, 'PENDING', (g % 100000) + 0.25, 'Applicant ' || g, 'D' || (g % 12),
                date '2025-01-01' + (g % 365)::int, g % 500, 'bench row ' || g
           from generate_series($1::bigint, $2::bigint) g`,
        [start, end],
      );
    }
    for (let start = 1; start <= updates; start += chunk) {
      const end = Math.min(updates, start + chunk - 1);
      await client.query("update permits set status = 'APPROVED', updated_at = now() where id between $1 and $2", [
        start,
        end,
      ]);
    }
    const lsn = await client.query<{ lsn: string }>("select pg_current_wal_lsn()::text as lsn");
    return { endLsn: lsn.rows[0]?.lsn ?? "0/0", changes: inserts + updates };
  } finally {
    await client.end();
  }
}

export async function rawWithPgRecvlogical(
  tool: string,
  url: string,
  endLsn: string,
  slot: string,
  publication = "ess_pub",
): Promise<number> {
  const started = process.hrtime.bigint();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(
      tool,
      [
        "-d",
        url,
        "--slot",
        slot,
        "--start",
        "--no-loop",
        `--endpos=${endLsn}`,
        "-f",
        "/dev/null",
        "-o",
        "proto_version=1",
        "-o",
        `publication_names=${publication}`,
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`pg_recvlogical exited ${code}: ${stderr}`)),
    );
  });
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** A bare consumer of the same library ESS builds on: receive and parse, store nothing. */
async function rawWithLibrary(url: string, endLsn: string, slot: string): Promise<number> {
  const end = parseLsn(endLsn);
  const service = new LogicalReplicationService(
    { connectionString: url },
    { acknowledge: { auto: false, timeoutSeconds: 0 } },
  );
  const started = process.hrtime.bigint();
  await new Promise<void>((resolve, reject) => {
    service.on("data", (lsn: string) => {
      if (parseLsn(lsn) >= end) resolve();
    });
    service.on("heartbeat", (lsn: string) => {
      if (parseLsn(lsn) >= end) resolve();
    });
    service.on("error", reject);
    service.subscribe(new PgoutputPlugin({ protoVersion: 1, publicationNames: ["ess_pub"] }), slot).catch(reject);
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await service.stop();
  return seconds;
}

async function essCapture(url: string, changes: number): Promise<number> {
  // Stored rows are counted from capture's own durability reports, not by querying the ledger:
  // a count(*) over a growing table every few milliseconds would compete with capture itself.
  let stored = 0;
  let finished: () => void = () => undefined;
  const allStored = new Promise<void>((resolve) => {
    finished = resolve;
  });
  const service = new CaptureService({
    sourceUrl: url,
    ledgerUrl: url,
    schema: "ess",
    slot: "ess_main",
    publication: "ess_pub",
    plugin: "pgoutput",
    tables: [{ schema: "public", name: "permits" }],
    heartbeatMs: 0,
    logger: silentLogger(),
    hooks: {
      onDurable: (_batch, inserted) => {
        stored += inserted;
        if (stored >= changes) finished();
      },
    },
  });
  const started = process.hrtime.bigint();
  const run = service.run();
  try {
    await Promise.race([
      allStored,
      run.then(() => Promise.reject(new Error("capture stopped before storing everything"))),
    ]);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const check = new pg.Client({ connectionString: url });
    await check.connect();
    const r = await check.query<{ n: string }>("select count(*) as n from ess.feed").finally(() => check.end());
    if (Number(r.rows[0]?.n) !== changes) throw new Error(`the ledger holds ${r.rows[0]?.n} rows, expected ${changes}`);
    return seconds;
  } finally {
    await service.stop();
    await run;
  }
}

export async function measureCapture(url: string, rows: number): Promise<CaptureBenchResult> {
  const { endLsn, changes } = await prepareBenchDatabase(url, rows);
  await migrate({ connectionString: url, schema: "ess" });
  const tool = PG_RECVLOGICAL_CANDIDATES.find((p) => existsSync(p));
  let rawSeconds = Number.POSITIVE_INFINITY;
  for (let i = 1; i <= RAW_RUNS; i++) {
    const slot = `raw_bench_${i}`;
    const seconds = tool
      ? await rawWithPgRecvlogical(tool, url, endLsn, slot)
      : await rawWithLibrary(url, endLsn, slot);
    rawSeconds = Math.min(rawSeconds, seconds);
  }
  const captureSeconds = await essCapture(url, changes);
  const raw = changes / rawSeconds;
  const capture = changes / captureSeconds;
  return {
    rows: changes,
    raw_tool: tool ? "pg_recvlogical" : "pg-logical-replication",
    raw_rows_per_s: Math.round(raw),
    capture_rows_per_s: Math.round(capture),
    ratio: Math.round((capture / raw) * 1000) / 1000,
  };
}
