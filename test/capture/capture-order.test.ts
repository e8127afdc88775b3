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

interface FeedRecord {
  commit_lsn: string;
  ordinal: number;
  op: string;
  table_name: string | null;
  key: { id?: string } | null;
  after: Record<string, unknown> | null;
}

describe("capture into the ledger", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase("capture-order");
    await prepareSource(db.url);
  });
  afterAll(async () => {
    await db.drop();
  });

  it("stores interleaved transactions in commit order, never a rolled-back one, and confirms the slot after storing", async () => {
    const { service, done } = startCapture(captureOptions(db.url));
    // Changes committed before the slot exists are not in its stream.
    await waitFor("the replication stream", async () => service.status().connected);
    const a = new pg.Client({ connectionString: db.url });
    const b = new pg.Client({ connectionString: db.url });
    await a.connect();
    await b.connect();
    try {
      await a.query("begin");
      await a.query("insert into permits (id, status, amount) values (1, 'PENDING', 10.50)");
      await b.query("begin");
      await b.query("insert into permits (id, status, amount) values (2, 'PENDING', 99999999.99)");
      await b.query("insert into hearings (id, permit_id, scheduled_for) values (20, 2, '2025-04-12')");
      await b.query("commit");
      await a.query("update permits set status = 'APPROVED' where id = 1");
      await a.query("commit");
      await a.query("begin");
      await a.query("insert into permits (id, status) values (3, 'NEVER')");
      await a.query("rollback");
      await a.query("delete from hearings where id = 20");
      await a.query("truncate hearings");

      await waitFor("six captured changes", async () => (await feedCount(db.url)) >= 6);
      const feed = await db.query<FeedRecord>(
        "select commit_lsn::text, ordinal, op, table_name, key, after from ess.feed order by commit_lsn, ordinal",
      );
      expect(feed.rows.map((r) => `${r.op}:${r.table_name}:${r.key?.id ?? ""}`)).toEqual([
        "insert:permits:2",
        "insert:hearings:20",
        "insert:permits:1",
        "update:permits:1",
        "delete:hearings:20",
        "truncate:hearings:",
      ]);
      // numeric survives exactly, never through a float
      expect(feed.rows[0]?.after?.amount).toBe("99999999.99");
      expect(feed.rows.some((r) => r.key?.id === "3")).toBe(false);

      const last = feed.rows.at(-1)?.commit_lsn ?? "0/0";
      await waitFor("the slot to confirm the last stored transaction", async () => {
        const slot = await db.query<{ ok: boolean }>(
          "select confirmed_flush_lsn > $1::pg_lsn as ok from pg_replication_slots where slot_name = $2",
          [last, slotFor(db.url)],
        );
        return slot.rows[0]?.ok === true;
      });
      const checkpoint = await db.query<{ ok: boolean }>(
        "select confirmed_lsn > $1::pg_lsn as ok from ess.checkpoints where slot = $2",
        [last, slotFor(db.url)],
      );
      expect(checkpoint.rows[0]?.ok).toBe(true);
    } finally {
      await a.end();
      await b.end();
      await service.stop();
      await done;
    }
  });

  it("a column added mid-stream appears in the following changes", async () => {
    const { service, done } = startCapture(captureOptions(db.url));
    try {
      await db.query("insert into permits (id, status) values (10, 'PENDING')");
      await db.query("alter table permits add column district text");
      await db.query("insert into permits (id, status, district) values (11, 'PENDING', 'NORTH')");
      await waitFor("permit 11", async () => {
        const r = await db.query("select 1 from ess.feed where key->>'id' = '11'");
        return (r.rowCount ?? 0) > 0;
      });
      const rows = await db.query<{ id: string; after: Record<string, unknown> }>(
        "select key->>'id' as id, after from ess.feed where key->>'id' in ('10','11') order by commit_lsn, ordinal",
      );
      expect(rows.rows[0]?.after).not.toHaveProperty("district");
      expect(rows.rows[1]?.after?.district).toBe("NORTH");
    } finally {
      await service.stop();
      await done;
    }
  });

  it("a graceful stop leaves every committed change stored and the slot confirmed up to it", async () => {
    const { service, done } = startCapture(captureOptions(db.url));
    for (let i = 100; i < 150; i++) await db.query("insert into permits (id, status) values ($1, 'PENDING')", [i]);
    await waitFor("50 rows", async () => {
      const r = await db.query<{ n: string }>(
        "select count(*) as n from ess.feed where (key->>'id')::int between 100 and 149",
      );
      return Number(r.rows[0]?.n) === 50;
    });
    await service.stop();
    await done;
    const slot = await db.query<{ active: boolean }>("select active from pg_replication_slots where slot_name = $1", [
      slotFor(db.url),
    ]);
    expect(slot.rows[0]?.active).toBe(false);
    // Restarting reads nothing twice: the ledger keeps exactly one row per change.
    const again = startCapture(captureOptions(db.url));
    await db.query("insert into permits (id, status) values (150, 'PENDING')");
    await waitFor("row 150", async () => {
      const r = await db.query("select 1 from ess.feed where key->>'id' = '150'");
      return (r.rowCount ?? 0) > 0;
    });
    await again.service.stop();
    await again.done;
    const stored = await db.query<{ n: string }>(
      "select count(*) as n from ess.feed where (key->>'id')::int between 100 and 150",
    );
    expect(Number(stored.rows[0]?.n)).toBe(51);
  });
});
