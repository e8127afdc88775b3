// End to end: commit → fixed-width file on disk through the whole engine (capture, mapping,
// ledger, batching, file drop), as a backlog rate and as commit-to-delivered latency under a
// steady load.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { loadConfig } from "../src/config/index.js";
import { EssEngine } from "../src/engine.js";
import { migrate } from "../src/ledger/migrate.js";
import { silentLogger } from "../src/ops/logger.js";

export interface E2eBenchResult {
  readonly e2e_rows: number;
  readonly e2e_rows_per_s: number;
  readonly latency_rate_per_s: number;
  readonly latency_changes: number;
  readonly latency_p50_ms: number;
  readonly latency_p99_ms: number;
  /** Ledger tables and indexes (ess.*) after the backlog was delivered, per change. */
  readonly ledger_bytes_per_change: number;
  /** WAL the server wrote while ESS captured and delivered the backlog (pg_stat_wal), per change. */
  readonly wal_bytes_per_change: number;
}

export interface LedgerCost {
  readonly ledgerBytes: number;
  readonly walBytes: number;
}

/** Server-wide WAL written so far (PostgreSQL 14+). */
export async function walBytes(client: pg.Client): Promise<bigint> {
  const r = await client.query<{ b: string }>("select wal_bytes::text as b from pg_stat_wal");
  return BigInt(r.rows[0]?.b ?? "0");
}

/** Tables, TOAST and indexes of the ledger schema. */
export async function ledgerBytes(client: pg.Client, schema = "ess"): Promise<number> {
  const r = await client.query<{ b: string }>(
    `select coalesce(sum(pg_total_relation_size(c.oid)), 0)::text as b
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = $1 and c.relkind in ('r', 'm')`,
    [schema],
  );
  return Number(r.rows[0]?.b ?? 0);
}

export async function site(adminUrl: string, name: string): Promise<{ url: string; configPath: string; dir: string }> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  await client.query(`create table permits (id bigint primary key, status text not null, amount numeric(12,2),
                        updated_at timestamptz not null default now());
                      create publication ess_pub for table permits`);
  await client.query(`select pg_create_logical_replication_slot('${name}_slot', 'pgoutput')`);
  await client.end();
  await migrate({ connectionString: url.toString(), schema: "ess" });
  const dir = await mkdtemp(join(tmpdir(), "ess-bench-"));
  await mkdir(join(dir, "connectors"));
  await mkdir(join(dir, "mappings"));
  await mkdir(join(dir, "drop"));
  await writeFile(
    join(dir, "ess.yaml"),
    `database:\n  url: ${url}\nreplication:\n  slot: ${name}_slot\n  publication: ess_pub\n  heartbeat: 1s\n`,
  );
  await writeFile(
    join(dir, "connectors", "city_hall_cobol.yaml"),
    [
      "name: city_hall_cobol",
      "adapter: file",
      "file:",
      `  dir: ${join(dir, "drop")}`,
      '  file: "permit_{date:%Y%m%d}_{batch}.txt"',
      "encoding: cp037",
      "batch: { maxRecords: 5000, maxWait: 200ms }",
      "",
    ].join("\n"),
  );
  await writeFile(
    join(dir, "mappings", "permit_status.yaml"),
    [
      "name: permit_status",
      "source:",
      "  table: public.permits",
      "timezone: America/New_York",
      "targets:",
      "  - connector: city_hall_cobol",
      "    format: fixed-width",
      "    fields:",
      "      PERMIT_ID: id | width:10",
      "      STATUS    : status | width:10",
      "      TS        : updated_at | format:%Y%m%d%H%M%S",
      "",
    ].join("\n"),
  );
  return { url: url.toString(), configPath: join(dir, "ess.yaml"), dir };
}

async function sentCount(client: pg.Client): Promise<number> {
  const r = await client.query<{ n: string }>("select count(*) as n from ess.deliveries where state = 'sent'");
  return Number(r.rows[0]?.n ?? 0);
}

/** Counts deliveries the partner accepted, from the engine's own events (no polling queries). */
function sentCounter(target: number): {
  events: { onItem(connector: string, verdict: { verdict: string }): void };
  done: Promise<void>;
} {
  let sent = 0;
  let finished: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    finished = resolve;
  });
  return {
    events: {
      onItem: (_connector, verdict) => {
        if (verdict.verdict === "sent" && ++sent >= target) finished();
      },
    },
    done,
  };
}

/** The backlog is committed in transactions of this many rows: the end-to-end figure's definition. */
const BACKLOG_TRANSACTION_ROWS = 1_000;

/** Writes a backlog first, then times the engine from start until every record is in a file. */
async function backlogRate(adminUrl: string, rows: number): Promise<{ rate: number; cost: LedgerCost }> {
  const s = await site(adminUrl, "ess_bench_e2e");
  const client = new pg.Client({ connectionString: s.url });
  await client.connect();
  try {
    for (let start = 1; start <= rows; start += BACKLOG_TRANSACTION_ROWS) {
      await client.query(
        "insert into permits (id, status, amount) select g, 'APPROVED', g % 1000 + 0.5 from generate_series($1::bigint, $2::bigint) g",
        [start, Math.min(rows, start + BACKLOG_TRANSACTION_ROWS - 1)],
      );
    }
    const counter = sentCounter(rows);
    const engine = await EssEngine.create(await loadConfig(s.configPath, { env: {} }), {
      logger: silentLogger(),
      pollMs: 20,
      events: counter.events,
    });
    await client.query("checkpoint");
    const walBefore = await walBytes(client);
    const started = process.hrtime.bigint();
    void engine.start();
    await counter.done;
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    await engine.stop();
    const walAfter = await walBytes(client);
    if (process.env.ESS_BENCH_SIZES) {
      const sizes = await client.query(
        `select c.relname, c.relkind, pg_size_pretty(pg_total_relation_size(c.oid)) total, pg_relation_size(c.oid) heap,
                s.n_tup_ins, s.n_tup_upd, s.n_tup_hot_upd
           from pg_class c join pg_namespace n on n.oid = c.relnamespace left join pg_stat_user_tables s on s.relid = c.oid
          where n.nspname = 'ess' and c.relkind in ('r', 'i') order by pg_total_relation_size(c.oid) desc`,
      );
      console.table(sizes.rows);
    }
    if ((await sentCount(client)) !== rows) throw new Error("the ledger disagrees with the delivery events");
    return {
      rate: rows / seconds,
      cost: { ledgerBytes: await ledgerBytes(client), walBytes: Number(walAfter - walBefore) },
    };
  } finally {
    await client.end();
    await rm(s.dir, { recursive: true, force: true });
  }
}

/** A steady `rate` changes/s (10 rows per transaction) for `seconds` after a warm-up change; latency = sent_at − commit time. */
async function steadyLatency(
  adminUrl: string,
  rate: number,
  seconds: number,
): Promise<{ p50: number; p99: number; n: number }> {
  const s = await site(adminUrl, "ess_bench_latency");
  const client = new pg.Client({ connectionString: s.url });
  await client.connect();
  const engine = await EssEngine.create(await loadConfig(s.configPath, { env: {} }), {
    logger: silentLogger(),
    pollMs: 20,
  });
  void engine.start();
  try {
    // Steady state: the load starts once a first change went through, so the engine's start
    // (leadership, replication start, first claims) is not counted as the latency of the changes
    // committed meanwhile: with it, the first 150 ms of changes alone decide the p99.
    await client.query("insert into permits (id, status) values (0, 'WARM-UP')");
    while ((await sentCount(client)) < 1) await new Promise((r) => setTimeout(r, 20));
    const warmedAt = await client.query<{ lsn: string }>("select pg_current_wal_lsn()::text as lsn");
    const perTxn = 10;
    const intervalMs = (1000 * perTxn) / rate;
    const total = rate * seconds;
    const t0 = Date.now();
    for (let i = 0; i < total; i += perTxn) {
      await client.query(
        "insert into permits (id, status) select g, 'APPROVED' from generate_series($1::bigint, $2::bigint) g",
        [i + 1, i + perTxn],
      );
      const due = t0 + ((i + perTxn) / perTxn) * intervalMs;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    while ((await sentCount(client)) < total + 1) await new Promise((r) => setTimeout(r, 50));
    const r = await client.query<{ p50: number; p99: number; n: string }>(
      `select percentile_cont(0.5) within group (order by extract(epoch from sent_at - commit_time) * 1000) as p50,
              percentile_cont(0.99) within group (order by extract(epoch from sent_at - commit_time) * 1000) as p99,
              count(*) as n
         from ess.deliveries where state = 'sent' and commit_lsn > $1::pg_lsn`,
      [warmedAt.rows[0]?.lsn ?? "0/0"],
    );
    return { p50: Number(r.rows[0]?.p50), p99: Number(r.rows[0]?.p99), n: Number(r.rows[0]?.n) };
  } finally {
    await engine.stop();
    await client.end();
    await rm(s.dir, { recursive: true, force: true });
  }
}

export async function measureEndToEnd(
  adminUrl: string,
  rows: number,
  rate = 1000,
  seconds = 15,
): Promise<E2eBenchResult> {
  const { rate: e2e, cost } = await backlogRate(adminUrl, rows);
  const latency = await steadyLatency(adminUrl, rate, seconds);
  return {
    e2e_rows: rows,
    e2e_rows_per_s: Math.round(e2e),
    latency_rate_per_s: rate,
    latency_changes: latency.n,
    latency_p50_ms: Math.round(latency.p50),
    latency_p99_ms: Math.round(latency.p99),
    ledger_bytes_per_change: Math.round(cost.ledgerBytes / rows),
    wal_bytes_per_change: Math.round(cost.walBytes / rows),
  };
}
