import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseLsn } from "../../src/change/lsn.js";
import { captureOptions, prepareSource, slotFor, startCapture, waitFor } from "../support/capture-fixture.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

async function slotPosition(db: TestDatabase): Promise<bigint> {
  const r = await db.query<{ lsn: string }>(
    "select confirmed_flush_lsn::text as lsn from pg_replication_slots where slot_name = $1",
    [slotFor(db.url)],
  );
  return parseLsn(r.rows[0]?.lsn ?? "0/0");
}

async function lastReplyTime(db: TestDatabase): Promise<number> {
  const r = await db.query<{ t: Date | null }>(
    `select r.reply_time as t from pg_stat_replication r join pg_replication_slots s on s.active_pid = r.pid
      where s.slot_name = $1`,
    [slotFor(db.url)],
  );
  return r.rows[0]?.t?.getTime() ?? 0;
}

async function currentWal(db: TestDatabase): Promise<bigint> {
  const r = await db.query<{ lsn: string }>("select pg_current_wal_lsn()::text as lsn");
  return parseLsn(r.rows[0]?.lsn ?? "0/0");
}

describe("while the ledger cannot store a change, the slot does not move past it", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase("held-ledger");
    await prepareSource(db.url);
    await db.query("select pg_create_logical_replication_slot($1, 'pgoutput')", [slotFor(db.url)]);
  });
  afterAll(async () => {
    await db.drop();
  });

  it("a change waiting on a locked feed holds the slot, even while keepalives report a later WAL end; released, it is stored and the slot moves on", async () => {
    // Replies asked for every ~250 ms: keepalives carrying the server's WAL end arrive often.
    const { service, done } = startCapture(captureOptions(db.url, { statusIntervalMs: 100, silentAfterMs: 1_000 }));
    const blocker = new pg.Client({ connectionString: db.url });
    await blocker.connect();
    try {
      await db.query("insert into permits (id, status) values (1, 'FIRST')");
      await waitFor("the first change stored", async () => {
        const r = await db.query<{ n: string }>("select count(*) as n from ess.feed");
        return Number(r.rows[0]?.n) === 1;
      });

      await blocker.query("begin");
      await blocker.query("lock table ess.feed in access exclusive mode");
      await db.query("insert into permits (id, status) values (2, 'HELD')");
      // WAL the publication does not cover: only keepalives tell ESS the server moved past it.
      for (let i = 0; i < 5; i++) await db.query("insert into unpublished_log (note) values ('moves the WAL end')");
      const walEnd = await currentWal(db);
      // Positive markers: ESS has processed a keepalive past the unpublished writes, and then
      // reported its position to the server again.
      await waitFor("a keepalive past the held change", async () => service.status().serverWalEnd >= walEnd);
      const seen = Date.now();
      await waitFor("a status update after that keepalive", async () => (await lastReplyTime(db)) > seen + 50);
      const whileHeld = await slotPosition(db);

      await blocker.query("commit");
      await waitFor("the held change stored", async () => {
        const r = await db.query<{ n: string }>("select count(*) as n from ess.feed");
        return Number(r.rows[0]?.n) === 2;
      });
      const held = await db.query<{ lsn: string }>(
        "select commit_lsn::text as lsn from ess.feed where key->>'id' = '2'",
      );
      const heldCommit = parseLsn(held.rows[0]?.lsn ?? "0/0");
      expect(heldCommit).toBeGreaterThan(0n);
      // The commit record starts at commit_lsn: a slot at or before it will send the change again.
      expect(whileHeld).toBeLessThanOrEqual(heldCommit);
      // Released, the same keepalive path moves the slot past the held change and the unpublished WAL.
      await waitFor("the slot past the unpublished writes", async () => (await slotPosition(db)) >= walEnd);
    } finally {
      await blocker.end().catch(() => undefined);
      await service.stop();
      await done;
    }
  }, 60_000);
});
