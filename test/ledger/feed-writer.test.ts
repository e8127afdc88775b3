import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FeedRow, FeedWriter } from "../../src/ledger/feed-writer.js";
import { migrate } from "../../src/ledger/migrate.js";
import { rowToJson } from "../../src/ledger/value-json.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

function row(ordinal: number, after: Record<string, string | null>): FeedRow {
  return {
    commitLsn: 0x1_0000_00a0n,
    ordinal,
    xid: 42,
    commitTime: new Date("2025-04-12T14:03:00Z"),
    op: "insert",
    tableSchema: "public",
    tableName: "permits",
    topic: null,
    keyJson: rowToJson({ id: after.id ?? null }),
    beforeJson: "null",
    afterJson: rowToJson(after),
  };
}

describe("feed writer", () => {
  let db: TestDatabase;
  let client: pg.Client;
  beforeAll(async () => {
    db = await createTestDatabase("feed-writer");
    await migrate({ connectionString: db.url, schema: "ess" });
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  });
  afterAll(async () => {
    await client.end();
    await db.drop();
  });

  it("stores awkward text exactly (tabs, newlines, backslashes, quotes, unicode) and NULL JSON as NULL", async () => {
    const writer = new FeedWriter("ess", "slot_x");
    const awkward = 'tab\there\nnew line \\ back "quoted" \r東京 José \u0001';
    const inserted = await writer.write(client, {
      rows: [row(0, { id: "BP-1", note: awkward, gone: null })],
      checkpoint: 0x1_0000_0100n,
    });
    expect(inserted).toBe(1);
    const stored = await client.query<{ after: { note: string; gone: null }; before: unknown; checkpoint: string }>(
      "select f.after, f.before, c.confirmed_lsn::text as checkpoint from ess.feed f, ess.checkpoints c",
    );
    expect(stored.rows[0]?.after.note).toBe(awkward);
    expect(stored.rows[0]?.after.gone).toBeNull();
    expect(stored.rows[0]?.before).toBeNull();
    expect(stored.rows[0]?.checkpoint).toBe("1/100");
  });

  it("a batch read again after a restart stores only what is new (the fast path gives way to the skipping one)", async () => {
    const writer = new FeedWriter("ess", "slot_x");
    const inserted = await writer.write(client, { rows: [row(0, { id: "BP-1" }), row(1, { id: "BP-2" })] });
    expect(inserted).toBe(1);
    const count = await client.query<{ n: string }>("select count(*) as n from ess.feed");
    expect(Number(count.rows[0]?.n)).toBe(2);
  });
});
