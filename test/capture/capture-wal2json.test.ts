import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { captureOptions, feedCount, prepareSource, startCapture, waitFor } from "../support/capture-fixture.js";
import { startDebianPostgres } from "../support/debian-postgres.js";
import type { PostgresServer } from "../support/embedded-server.js";

describe("capture with plugin wal2json (Debian's PostgreSQL 15)", () => {
  let server: PostgresServer;
  beforeAll(async () => {
    server = await startDebianPostgres();
    await prepareSource(server.url());
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("streams the mapped tables into the ledger, in commit order, and nothing else", async () => {
    const url = server.url();
    const { service, done } = startCapture(captureOptions(url, { plugin: "wal2json" }));
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await waitFor("the replication stream", async () => service.status().connected);
      await client.query("insert into permits (id, status, amount) values (1, 'PENDING', 99999999.99)");
      await client.query("insert into unpublished_log (note) values ('not mapped')");
      await client.query("update permits set status = 'APPROVED' where id = 1");
      await client.query("delete from permits where id = 1");
      await waitFor("three changes", async () => (await feedCount(url)) >= 3);
      const feed = await client.query<{ op: string; table_name: string; after: { amount?: string } | null }>(
        "select op, table_name, after from ess.feed order by commit_lsn, ordinal",
      );
      expect(feed.rows.map((r) => `${r.op}:${r.table_name}`)).toEqual([
        "insert:permits",
        "update:permits",
        "delete:permits",
      ]);
      expect(feed.rows[0]?.after?.amount).toBe("99999999.99");
    } finally {
      await client.end();
      await service.stop();
      await done;
    }
  });
});
