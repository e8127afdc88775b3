import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BatchClaims, type ClaimOptions } from "../../src/ledger/batch-claims.js";
import { BatchOutcomes } from "../../src/ledger/batch-outcomes.js";
import { migrate } from "../../src/ledger/migrate.js";
import { readMigrationFiles } from "../../src/ledger/migration-files.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

/** The ledger before batch-granular deliveries: every delivery row carried its own state. */
const PER_ROW_LAYOUT = 3;

describe("migrating a per-row ledger to batch-granular deliveries", () => {
  let db: TestDatabase;
  let client: pg.Client;
  beforeAll(async () => {
    db = await createTestDatabase("migrate-batch-granular");
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  });
  afterAll(async () => {
    await client.end();
    await db.drop();
  });

  const options = (connector: string): ClaimOptions => ({
    connector,
    ordering: "key",
    maxRecords: 100,
    maxWaitMs: 0,
    owner: "test",
    leaseMs: 60_000,
  });

  it("keeps every pending, retrying, sending, dead and sent delivery with its state, and sends what was waiting", async () => {
    const files = await readMigrationFiles();
    await migrate({
      connectionString: db.url,
      schema: "ess",
      files: files.filter((f) => f.version <= PER_ROW_LAYOUT),
    });
    // A drop batch that failed as a whole (retrying, due now) with two members, a sent batch,
    // and deliveries pending, retrying on their own, dead, and sent.
    await db.query("insert into ess.connectors (connector, next_sequence) values ('c', 3)");
    await db.query(
      `insert into ess.batches (connector, sequence, name, state, attempts, next_attempt_at)
       values ('c', 1, 'c_1.txt', 'sent', 1, now()), ('c', 2, 'c_2.txt', 'retrying', 2, now() - interval '1 second')`,
    );
    const rows: [string, string, number, number | null][] = [
      ["sent-1", "sent", 1, 1],
      ["batch-a", "retrying", 2, 2],
      ["batch-b", "retrying", 2, 2],
      ["alone-retry", "retrying", 3, null],
      ["dead-1", "dead", 5, null],
      ["pending-1", "pending", 0, null],
      ["pending-2", "pending", 0, null],
    ];
    for (const [token, state, attempts, batch] of rows) {
      await db.query(
        `insert into ess.deliveries (token, correlation_id, connector, mapping, target_index, ordering_key, commit_time,
                                     state, payload, attempts, batch_id, last_error, next_attempt_at)
         values ($1, $1, 'c', 'm', 0, $1, now(), $2, convert_to($1, 'UTF8'), $3,
                 (select id from ess.batches where sequence = $4), case when $2 in ('retrying', 'dead') then 'boom' end,
                 now() - interval '1 second')`,
        [token, state, attempts, batch],
      );
    }
    const before = await db.query<{ token: string; state: string; attempts: number; batch: string | null }>(
      "select token, state, attempts, batch_id::text as batch from ess.deliveries order by id",
    );

    await migrate({ connectionString: db.url, schema: "ess" });

    const after = await db.query<{ token: string; state: string; attempts: number; batch: string | null }>(
      "select token, state, attempts, batch_id::text as batch from ess.deliveries order by id",
    );
    expect(after.rows).toEqual(before.rows);
    const kinds = await db.query<{ table_type: string }>(
      "select table_type from information_schema.tables where table_schema = 'ess' and table_name = 'deliveries'",
    );
    expect(kinds.rows[0]?.table_type).toBe("VIEW");

    // The retrying drop batch is taken over whole, under its name, with its attempt count.
    const claims = new BatchClaims("ess");
    const outcomes = new BatchOutcomes("ess");
    const retried = await claims.claim(client, options("c"));
    expect(retried?.name).toBe("c_2.txt");
    expect(retried?.attempt).toBe(3);
    expect(retried?.items.map((i) => i.token)).toEqual(["batch-a", "batch-b"]);
    await outcomes.recordItems(
      client,
      { id: retried?.id ?? "", connector: "c", attempt: 3, owner: "test", run: retried?.run ?? null },
      (retried?.items ?? []).map((i) => ({ id: i.id, token: i.token, verdict: "sent" as const })),
    );

    // The deliveries waiting on their own go next, in id order; the dead and sent ones never.
    const waiting = await claims.claim(client, options("c"));
    expect(waiting?.items.map((i) => i.token)).toEqual(["alone-retry", "pending-1", "pending-2"]);
    expect(waiting?.items.map((i) => i.attempt)).toEqual([4, 1, 1]);
    await outcomes.recordItems(
      client,
      { id: waiting?.id ?? "", connector: "c", attempt: 1, owner: "test", run: waiting?.run ?? null },
      (waiting?.items ?? []).map((i) => ({ id: i.id, token: i.token, verdict: "sent" as const })),
    );
    expect(await claims.claim(client, options("c"))).toBeNull();

    // A delivery written after the migration travels in a run: its row is never updated.
    await db.query(
      `insert into ess.delivery_items (token, correlation_id, connector, mapping, target_index, ordering_key,
                                       commit_time, state, payload)
       values ('new-1', 'new-1', 'c', 'm', 0, 'new-1', now(), 'pending', '\\x01')`,
    );
    const run = await claims.claim(client, options("c"));
    expect(run?.run).not.toBeNull();
    expect(run?.items.map((i) => i.token)).toEqual(["new-1"]);
    await outcomes.recordItems(
      client,
      { id: run?.id ?? "", connector: "c", attempt: 1, owner: "test", run: run?.run ?? null },
      (run?.items ?? []).map((i) => ({ id: i.id, token: i.token, verdict: "sent" as const, reference: "c_9.txt" })),
    );
    const final = await db.query<{ token: string; state: string; partner_reference: string | null }>(
      "select token, state, partner_reference from ess.deliveries order by id",
    );
    expect(final.rows.map((r) => `${r.token}:${r.state}`)).toEqual([
      "sent-1:sent",
      "batch-a:sent",
      "batch-b:sent",
      "alone-retry:sent",
      "dead-1:dead",
      "pending-1:sent",
      "pending-2:sent",
      "new-1:sent",
    ]);
    expect(final.rows.at(-1)?.partner_reference).toBe("c_9.txt");
    const untouched = await db.query<{ own_state: boolean; row_still_pending: boolean }>(
      "select own_state, state = 'pending' as row_still_pending from ess.delivery_items where token = 'new-1'",
    );
    expect(untouched.rows[0]).toEqual({ own_state: false, row_still_pending: true });
  });
});
