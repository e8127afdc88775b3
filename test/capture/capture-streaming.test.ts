// Transactions streamed while still in progress (pgoutput protocol 2, PostgreSQL 14+): their
// changes wait in the ledger and reach the feed only at their commit; an aborted transaction or
// subtransaction leaves nothing. The database's logical_decoding_work_mem is the minimum (64kB),
// so a few hundred rows already make the server stream.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  captureOptions,
  feedCount,
  prepareSource,
  slotFor,
  startCapture,
  waitFor,
} from "../support/capture-fixture.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

describe("streamed transactions (protocol 2)", () => {
  let db: TestDatabase;
  let capture: ReturnType<typeof startCapture>;

  const streamedTransactions = async (): Promise<number> => {
    const r = await db.query<{ n: string }>(
      "select coalesce(sum(stream_txns), 0) as n from pg_stat_replication_slots where slot_name = $1",
      [slotFor(db.url)],
    );
    return Number(r.rows[0]?.n ?? 0);
  };
  const waiting = async (): Promise<number> => {
    const r = await db.query<{ n: string }>("select count(*) as n from ess.streamed_changes");
    return Number(r.rows[0]?.n ?? 0);
  };

  beforeAll(async () => {
    db = await createTestDatabase("capture-streaming");
    await prepareSource(db.url);
    // Read by the walsender, which connects to this database.
    await db.query(`alter database ${db.name} set logical_decoding_work_mem = '64kB'`);
    await db.query("select pg_create_logical_replication_slot($1, 'pgoutput')", [slotFor(db.url)]);
    capture = startCapture(captureOptions(db.url, { limits: { batchRows: 300, maxBufferedRows: 1200 } }));
  });
  afterAll(async () => {
    await capture?.service.stop();
    await capture?.done.catch(() => undefined);
    await db.drop();
  });

  it("a large transaction arrives in segments and reaches the feed whole, once, at its commit", async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const before = await streamedTransactions();
      await client.query("begin");
      await client.query(
        "insert into permits (id, status, amount, applicant) select g, 'PENDING', g + 0.25, repeat('x', 40) from generate_series(1, 3000) g",
      );
      // Waits in the ledger, not in the feed, while the transaction is open.
      await waitFor("segments of the open transaction in the ledger", async () => (await waiting()) > 0);
      expect(await feedCount(db.url)).toBe(0);
      await client.query("savepoint s1");
      await client.query(
        "insert into permits (id, status) select g, 'ROLLED BACK' from generate_series(100001, 101000) g",
      );
      await client.query("savepoint s2");
      await client.query("update permits set status = 'ALSO ROLLED BACK' where id <= 500");
      await client.query("rollback to savepoint s1");
      await client.query("update permits set status = 'APPROVED' where id <= 1000");
      await client.query("commit");
      await waitFor("the committed transaction in the feed", async () => (await feedCount(db.url)) >= 4000);
      expect(await streamedTransactions()).toBeGreaterThan(before);
      const feed = await db.query<{ op: string; n: string; commits: string; first: number; last: number }>(
        `select op, count(*) as n, count(distinct commit_lsn) as commits, min(ordinal) as first, max(ordinal) as last
           from ess.feed group by op order by op`,
      );
      expect(feed.rows.map((r) => [r.op, Number(r.n), Number(r.commits)])).toEqual([
        ["insert", 3000, 1],
        ["update", 1000, 1],
      ]);
      // Numbered as the changes were made: inserts first, then the updates after the rollback.
      const insert = feed.rows[0]!;
      const update = feed.rows[1]!;
      expect([insert.first, insert.last, update.first, update.last]).toEqual([0, 2999, 3000, 3999]);
      const rolledBack = await db.query<{ n: string }>(
        "select count(*) as n from ess.feed where after->>'status' in ('ROLLED BACK', 'ALSO ROLLED BACK')",
      );
      expect(Number(rolledBack.rows[0]?.n)).toBe(0);
      await waitFor("nothing left waiting", async () => (await waiting()) === 0);
    } finally {
      await client.end();
    }
  }, 90_000);

  it("an aborted streamed transaction leaves nothing in the feed or waiting", async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const feedBefore = await feedCount(db.url);
      await client.query("begin");
      await client.query(
        "insert into permits (id, status, applicant) select g, 'NEVER', repeat('y', 40) from generate_series(200001, 203000) g",
      );
      await waitFor("segments of the open transaction in the ledger", async () => (await waiting()) > 0);
      await client.query("rollback");
      await waitFor("the aborted transaction's changes discarded", async () => (await waiting()) === 0);
      // A later small transaction is captured, so everything before it has been handled.
      await client.query("insert into permits (id, status) values (300001, 'AFTER')");
      await waitFor("the next transaction in the feed", async () => (await feedCount(db.url)) === feedBefore + 1);
      const never = await db.query<{ n: string }>(
        "select count(*) as n from ess.feed where after->>'status' = 'NEVER'",
      );
      expect(Number(never.rows[0]?.n)).toBe(0);
    } finally {
      await client.end();
    }
  }, 90_000);
});
