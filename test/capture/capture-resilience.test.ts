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
import { type PostgresServer, startEmbeddedPostgres } from "../support/embedded-server.js";

async function confirmedFlush(url: string): Promise<bigint> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const r = await client.query<{ lsn: string }>(
      "select (confirmed_flush_lsn - '0/0'::pg_lsn)::text as lsn from pg_replication_slots where slot_name = $1",
      [slotFor(url)],
    );
    return BigInt(r.rows[0]?.lsn ?? "0");
  } finally {
    await client.end();
  }
}

describe("an idle or unpublished database does not pin WAL", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase("capture-idle");
    await prepareSource(db.url);
  });
  afterAll(async () => {
    await db.drop();
  });

  it("the slot's confirmed_flush_lsn advances while the only writes go to an unpublished table", async () => {
    const { service, done } = startCapture(captureOptions(db.url, { heartbeatMs: 0 }));
    try {
      await waitFor("the slot", async () => (await confirmedFlush(db.url)) > 0n);
      const before = await confirmedFlush(db.url);
      for (let i = 0; i < 30; i++) {
        await db.query("insert into unpublished_log (note) select repeat('x', 500) from generate_series(1, 50)");
      }
      const current = await db.query<{ lsn: string }>("select (pg_current_wal_lsn() - '0/0'::pg_lsn)::text as lsn");
      const target = BigInt(current.rows[0]?.lsn ?? "0");
      await waitFor("confirmed_flush_lsn to reach the WAL written to the unpublished table", async () => {
        return (await confirmedFlush(db.url)) >= target;
      });
      expect(await confirmedFlush(db.url)).toBeGreaterThan(before);
      expect(await feedCount(db.url)).toBe(0);
    } finally {
      await service.stop();
      await done;
    }
  });

  it("with the heartbeat on, the slot keeps moving on a database with no writes at all", async () => {
    const { service, done } = startCapture(captureOptions(db.url, { heartbeatMs: 100 }));
    try {
      const start = await confirmedFlush(db.url);
      await waitFor("the slot to move without any writes", async () => (await confirmedFlush(db.url)) > start, 15_000);
    } finally {
      await service.stop();
      await done;
    }
  });
});

describe("capture across a PostgreSQL restart and a slow ledger", () => {
  let server: PostgresServer;
  beforeAll(async () => {
    // A private server: restarting the shared one would break other test files.
    server = await startEmbeddedPostgres({ settings: { wal_sender_timeout: "2s" } });
    await prepareSource(server.url());
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("reconnects after PostgreSQL restarts under it and loses nothing", async () => {
    const url = server.url();
    const { service, done } = startCapture(captureOptions(url));
    try {
      await waitFor("the stream", async () => service.status().connected);
      for (let i = 1; i <= 20; i++) await rawQuery(url, "insert into permits (id, status) values ($1, 'A')", [i]);
      await server.restart();
      for (let i = 21; i <= 40; i++) await rawQuery(url, "insert into permits (id, status) values ($1, 'B')", [i]);
      await waitFor("40 changes after the restart", async () => (await feedCount(url)) >= 40, 30_000);
      expect(await feedCount(url)).toBe(40);
      expect(service.status().reconnects).toBeGreaterThan(0);
    } finally {
      await service.stop();
      await done;
    }
  });

  it("keeps the replication connection alive while the ledger is blocked longer than wal_sender_timeout", async () => {
    const url = server.url();
    // Tiny buffers, so back-pressure stops reading the socket while the ledger is blocked.
    const { service, done } = startCapture(captureOptions(url, { limits: { batchRows: 5, maxBufferedRows: 10 } }));
    const locker = new pg.Client({ connectionString: url });
    await locker.connect();
    try {
      await waitFor("the stream", async () => service.status().connected);
      const reconnectsBefore = service.status().reconnects;
      const base = await feedCount(url);
      await locker.query("begin");
      await locker.query("lock table ess.feed in access exclusive mode");
      for (let i = 100; i < 120; i++) await rawQuery(url, "insert into permits (id, status) values ($1, 'C')", [i]);
      await new Promise((r) => setTimeout(r, 5_000));
      expect(await countWithTimeout(url)).toBe("locked");
      await locker.query("commit");
      await waitFor("the 20 rows once the ledger is free", async () => (await feedCount(url)) >= base + 20, 20_000);
      expect(service.status().reconnects).toBe(reconnectsBefore);
    } finally {
      await locker.end();
      await service.stop();
      await done;
    }
  }, 60_000);
});

async function rawQuery(url: string, sql: string, params: unknown[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql, params);
  } finally {
    await client.end();
  }
}

/** Shows the ledger really was blocked: a read of the feed times out while the lock is held. */
async function countWithTimeout(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("set lock_timeout = 200");
    await client.query("select count(*) from ess.feed");
    return "free";
  } catch {
    return "locked";
  } finally {
    await client.end();
  }
}
