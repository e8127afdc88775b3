// npm run bench:retention [-- --rows N]: how fast retention's batched deletes remove delivered
// changes (feed rows, their deliveries, sent batches of 5,000 and the audit), on an embedded
// server of its own, while nothing else runs. The rate to compare with is capture's: pruning
// keeps up when it removes a day's changes in a small part of a day.
import { parseArgs } from "node:util";
import pg from "pg";
import { migrate } from "../src/ledger/migrate.js";
import { pruneLedger } from "../src/ledger/retention.js";
import { startEmbeddedPostgres } from "../test/support/embedded-server.js";

const { values } = parseArgs({ options: { rows: { type: "string", default: "500000" } } });
const rows = Number(values.rows);
if (!Number.isInteger(rows) || rows <= 0) {
  process.stderr.write("--rows must be a positive whole number\n");
  process.exit(2);
}
const BATCH = 5000;

const server = await startEmbeddedPostgres();
const admin = new pg.Client({ connectionString: server.url() });
await admin.connect();
await admin.query("drop database if exists ess_bench_retention with (force)");
await admin.query("create database ess_bench_retention");
await admin.end();
const url = new URL(server.url());
url.pathname = "/ess_bench_retention";
const client = new pg.Client({ connectionString: url.toString() });
await client.connect();
try {
  await migrate({ connectionString: url.toString(), schema: "ess" });
  // Delivered changes as the ledger holds them after delivery: a feed row and a delivery per
  // change, one sent batch per 5,000, one audit row per batch hop; all of them a week old.
  await client.query(
    `insert into ess.feed (commit_lsn, ordinal, xid, commit_time, op, table_schema, table_name, key, after, captured_at)
     select ('0/' || to_hex(1000 + g / 1000))::pg_lsn, g % 1000, 1000 + g / 1000, now() - interval '8 days', 'insert',
            'public', 'permits', json_build_object('id', g), json_build_object('id', g, 'status', 'APPROVED'),
            now() - interval '8 days'
       from generate_series(0, $1::int - 1) g`,
    [rows],
  );
  await client.query(
    `insert into ess.delivery_items (token, correlation_id, connector, mapping, target_index, ordering_key, commit_lsn,
            ordinal, commit_time, state, payload, own_state)
     select 'ess1-' || md5(g::text), 'ess-' || left(md5(g::text), 24), 'drop', 'permit_status', 0, g::text,
            ('0/' || to_hex(1000 + g / 1000))::pg_lsn, g % 1000, now() - interval '8 days', 'pending',
            convert_to(rpad(g::text, 10) || 'APPROVED  ', 'utf8'), false
       from generate_series(0, $1::int - 1) g order by g`,
    [rows],
  );
  await client.query(
    `insert into ess.batches (connector, sequence, name, state, first_id, last_id, item_count, sent_at, created_at, updated_at)
     select 'drop', b, 'permits_' || b || '.txt', 'sent', min(id), max(id), count(*), now() - interval '8 days',
            now() - interval '8 days', now() - interval '8 days'
       from (select id, (row_number() over (order by id) - 1) / $1 as b from ess.delivery_items) runs
      group by b`,
    [BATCH],
  );
  await client.query(
    `insert into ess.audit (at, event, connector, attempt, detail)
     select now() - interval '500 days', e, 'drop', 1, jsonb_build_object('batchId', b.id, 'count', b.item_count)
       from ess.batches b, unnest(array['queued', 'claimed', 'sent']) e`,
  );
  await client.query("vacuum analyze");
  const started = process.hrtime.bigint();
  const report = await pruneLedger(client, "ess", { deliveredMs: 7 * 86_400_000, auditMs: 400 * 86_400_000 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const left = await client.query<{ feed: string; items: string }>(
    "select (select count(*) from ess.feed) as feed, (select count(*) from ess.delivery_items) as items",
  );
  process.stdout.write(
    `${JSON.stringify({
      retention_changes: rows,
      retention_seconds: Math.round(seconds * 10) / 10,
      retention_changes_per_s: Math.round(rows / seconds),
      pruned: report,
      left: { feed: Number(left.rows[0]?.feed), deliveries: Number(left.rows[0]?.items) },
    })}\n`,
  );
} finally {
  await client.end();
  await server.stop();
}
