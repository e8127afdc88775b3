// ESS reaches inside pg-logical-replication in one module (src/source/replication-connection.ts).
// This test fails, naming what is missing, when a new version of the library moves those fields.
import { LogicalReplicationService } from "pg-logical-replication";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseLsn } from "../../src/change/lsn.js";
import { silentLogger } from "../../src/ops/logger.js";
import { PgoutputDecoder, pgoutputStartOptions } from "../../src/source/pgoutput-decoder.js";
import { replicationBackendPid, sendOnReplicationConnection } from "../../src/source/replication-connection.js";
import { ReplicationStream } from "../../src/source/replication-stream.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

describe("pg-logical-replication's private session fields", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase("replication-connection");
    await db.query("create table t (id int primary key)");
    await db.query("create publication p for table t");
    await db.query("select pg_create_logical_replication_slot('s', 'pgoutput')");
  });
  afterAll(async () => {
    await db.drop();
  });

  it("are absent before the session opens", () => {
    const service = new LogicalReplicationService({ connectionString: db.url });
    expect(replicationBackendPid(service)).toBeUndefined();
    expect(sendOnReplicationConnection(service, Buffer.alloc(0))).toBe(false);
  });

  it("name the walsender and carry ESS's standby status updates: a confirmed position moves the slot", async () => {
    await db.query("insert into t values (1)");
    const target = await db.query<{ lsn: string }>("select pg_current_wal_lsn()::text as lsn");
    const lsn = parseLsn(target.rows[0]?.lsn ?? "0/0");
    const stream = new ReplicationStream(
      {
        connectionString: db.url,
        slot: "s",
        startLsn: 0n,
        pluginOptions: pgoutputStartOptions("p"),
        logger: silentLogger(),
      },
      new PgoutputDecoder(),
    );
    const running = stream.run({ onMessage: () => undefined, isIdle: () => false });
    try {
      await expect
        .poll(() => stream.backendPid, {
          timeout: 15_000,
          message: "LogicalReplicationService._client.processID is gone: see src/source/replication-connection.ts",
        })
        .toBeTypeOf("number");
      const backend = await db.query<{ backend_type: string }>(
        "select backend_type from pg_stat_activity where pid = $1",
        [stream.backendPid],
      );
      expect(backend.rows[0]?.backend_type).toBe("walsender");
      stream.confirm(lsn);
      await expect
        .poll(
          async () =>
            (
              await db.query<{ ok: boolean }>(
                "select confirmed_flush_lsn >= $1::pg_lsn as ok from pg_replication_slots where slot_name = 's'",
                [target.rows[0]?.lsn],
              )
            ).rows[0]?.ok,
          {
            timeout: 15_000,
            message:
              "LogicalReplicationService._connection.sendCopyFromChunk is gone: see src/source/replication-connection.ts",
          },
        )
        .toBe(true);
    } finally {
      await stream.stop();
      await running;
    }
  });
});
