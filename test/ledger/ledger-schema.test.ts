import { sql } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { affectedRows, ledgerDb, ledgerTable } from "../../src/ledger/ledger-db.js";
import type { LedgerSchema } from "../../src/ledger/ledger-schema.js";
import { migrate } from "../../src/ledger/migrate.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

/**
 * Every column of the typed schema with its PostgreSQL type and whether it may be null. The type
 * annotation makes TypeScript refuse a column missing here or listed but absent from the schema;
 * the test compares the list with what the migrations create.
 */
type ColumnFacts = { [T in keyof LedgerSchema]: Record<keyof LedgerSchema[T], `${string} ${"null" | "not null"}`> };
const COLUMNS: ColumnFacts = {
  migrations: { version: "int4 not null", name: "text not null", applied_at: "timestamptz not null" },
  feed: {
    commit_lsn: "pg_lsn not null",
    ordinal: "int4 not null",
    xid: "int8 not null",
    commit_time: "timestamptz not null",
    op: "text not null",
    table_schema: "text null",
    table_name: "text null",
    topic: "text null",
    key: "json null",
    before: "json null",
    after: "json null",
    captured_at: "timestamptz not null",
  },
  checkpoints: { slot: "text not null", confirmed_lsn: "pg_lsn not null", updated_at: "timestamptz not null" },
  audit: {
    id: "int8 not null",
    at: "timestamptz not null",
    event: "text not null",
    delivery_id: "int8 null",
    token: "text null",
    connector: "text null",
    attempt: "int4 null",
    detail: "jsonb null",
    error: "text null",
  },
  batches: {
    id: "int8 not null",
    connector: "text not null",
    sequence: "int8 not null",
    name: "text null",
    state: "text not null",
    attempts: "int4 not null",
    next_attempt_at: "timestamptz not null",
    lease_until: "timestamptz null",
    owner: "text null",
    adapter_state: "jsonb null",
    last_error: "text null",
    created_at: "timestamptz not null",
    updated_at: "timestamptz not null",
    first_id: "int8 null",
    last_id: "int8 null",
    item_count: "int4 null",
    sent_at: "timestamptz null",
    partner_reference: "text null",
  },
  delivery_items: {
    id: "int8 not null",
    token: "text not null",
    correlation_id: "text null",
    connector: "text not null",
    mapping: "text not null",
    target_index: "int4 not null",
    ordering_key: "text not null",
    commit_lsn: "pg_lsn null",
    ordinal: "int4 null",
    commit_time: "timestamptz not null",
    state: "text not null",
    payload: "bytea null",
    attempts: "int4 not null",
    next_attempt_at: "timestamptz not null",
    batch_id: "int8 null",
    last_error: "text null",
    partner_reference: "text null",
    created_at: "timestamptz not null",
    updated_at: "timestamptz not null",
    sent_at: "timestamptz null",
    confirmed_at: "timestamptz null",
    receipt_id: "uuid null",
    app_correlation_id: "text null",
    trace_id: "text null",
    max_attempts: "int4 null",
    first_attempt_at: "timestamptz null",
    own_state: "bool not null",
  },
  // A view: PostgreSQL reports every column of a view as nullable.
  deliveries: {
    id: "int8 null",
    token: "text null",
    correlation_id: "text null",
    connector: "text null",
    mapping: "text null",
    target_index: "int4 null",
    ordering_key: "text null",
    commit_lsn: "pg_lsn null",
    ordinal: "int4 null",
    commit_time: "timestamptz null",
    state: "text null",
    payload: "bytea null",
    attempts: "int4 null",
    next_attempt_at: "timestamptz null",
    batch_id: "int8 null",
    last_error: "text null",
    partner_reference: "text null",
    created_at: "timestamptz null",
    updated_at: "timestamptz null",
    sent_at: "timestamptz null",
    confirmed_at: "timestamptz null",
    receipt_id: "uuid null",
    app_correlation_id: "text null",
    trace_id: "text null",
    max_attempts: "int4 null",
    first_attempt_at: "timestamptz null",
  },
  connectors: {
    connector: "text not null",
    paused: "bool not null",
    online: "bool not null",
    heartbeat_failures: "int4 not null",
    attention: "text null",
    next_sequence: "int8 not null",
    last_success_at: "timestamptz null",
    last_heartbeat_at: "timestamptz null",
    updated_at: "timestamptz not null",
    claimed_through: "int8 not null",
  },
  inbound_events: {
    id: "int8 not null",
    connector: "text not null",
    delivery_id: "int8 null",
    correlation: "text not null",
    body: "jsonb not null",
    received_at: "timestamptz not null",
    status: "text null",
    reference: "text null",
    message: "text null",
    via: "text null",
  },
  pulled_files: {
    connector: "text not null",
    name: "text not null",
    checksum: "text not null",
    answers: "int4 not null",
    unmatched: "int4 not null",
    pulled_at: "timestamptz not null",
  },
  source_identity: {
    slot: "text not null",
    system_identifier: "text not null",
    timeline: "int4 not null",
    slot_start_lsn: "pg_lsn not null",
    recorded_at: "timestamptz not null",
  },
  streamed_changes: {
    slot: "text not null",
    xid: "int8 not null",
    seq: "int4 not null",
    change_xid: "int8 not null",
    change: "text not null",
  },
};

describe("the ledger's typed schema", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase("ledger-schema");
    await migrate({ connectionString: db.url, schema: "ledger_k" });
  });
  afterAll(async () => {
    await db.drop();
  });

  it("names every table, view and column the migrations create, with its type and nullability", async () => {
    const found = await db.query<{ table_name: string; column_name: string; udt_name: string; is_nullable: string }>(
      `select table_name, column_name, udt_name, is_nullable from information_schema.columns
        where table_schema = 'ledger_k' order by table_name, ordinal_position`,
    );
    const actual: Record<string, Record<string, string>> = {};
    for (const r of found.rows) {
      actual[r.table_name] ??= {};
      (actual[r.table_name] as Record<string, string>)[r.column_name] =
        `${r.udt_name} ${r.is_nullable === "YES" ? "null" : "not null"}`;
    }
    expect(actual).toEqual(COLUMNS);
  });

  it("queries the configured schema over a pool and over one client, inside the caller's transaction", async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const overPool = ledgerDb(pool, "ledger_k");
      expect(ledgerDb(pool, "ledger_k")).toBe(overPool);
      await overPool.insertInto("connectors").values({ connector: "crm" }).execute();
      const row = await overPool.selectFrom("connectors").selectAll().where("connector", "=", "crm").executeTakeFirst();
      expect(row).toMatchObject({ connector: "crm", paused: false, next_sequence: "1", claimed_through: "0" });

      // Statements through a client's builder join the transaction the caller opened on it.
      const overClient = ledgerDb(client, "ledger_k");
      await client.query("begin");
      const changed =
        await sql`update ${ledgerTable("ledger_k", "connectors")} set paused = true where connector = ${"crm"}`.execute(
          overClient,
        );
      expect(affectedRows(changed)).toBe(1);
      await client.query("rollback");
      const after = await overPool
        .selectFrom("connectors")
        .select("paused")
        .where("connector", "=", "crm")
        .executeTakeFirst();
      expect(after?.paused).toBe(false);

      // kysely's own transaction over a pool runs on one checked-out client.
      await overPool.transaction().execute(async (trx) => {
        await trx.updateTable("connectors").set({ paused: true }).where("connector", "=", "crm").execute();
        const inside = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
        const again = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
        expect(inside.rows[0]?.pid).toBe(again.rows[0]?.pid);
      });
      const committed = await overPool.selectFrom("connectors").select("paused").executeTakeFirst();
      expect(committed?.paused).toBe(true);
    } finally {
      await client.end();
      await pool.end();
    }
  });

  it("keeps node-postgres's error, SQLSTATE and all, and returns the pool's client after a failure", async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 1 });
    try {
      const ledger = ledgerDb(pool, "ledger_k");
      const failure = await ledger
        .insertInto("checkpoints")
        .values({ slot: "s", confirmed_lsn: "not an lsn" })
        .execute()
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(pg.DatabaseError);
      expect((failure as pg.DatabaseError).code).toBe("22P02");
      // With max 1, a client kept after the failure would make this wait forever.
      const n = await ledger
        .selectFrom("checkpoints")
        .select((e) => e.fn.countAll<string>().as("n"))
        .executeTakeFirst();
      expect(n?.n).toBe("0");
    } finally {
      await pool.end();
    }
  });
});
