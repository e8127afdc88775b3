import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate } from "../../src/ledger/migrate.js";
import { pruneLedger } from "../../src/ledger/retention.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

describe("ledger retention", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase("retention");
    await migrate({ connectionString: db.url, schema: "ess" });
  });
  afterAll(async () => {
    await db.drop();
  });

  it("item 9: prunes old sent and confirmed deliveries with their feed rows, old partner answers and old audit rows; keeps pending, retrying and dead ones", async () => {
    const states = ["sent", "confirmed", "pending", "retrying", "dead", "sent"];
    for (const [i, state] of states.entries()) {
      await db.query(
        `insert into ess.feed (commit_lsn, ordinal, xid, commit_time, op, table_schema, table_name, key, after, captured_at)
         values ('0/100', $1, 1, now(), 'insert', 'public', 'permits', '{}', '{}', now() - interval '2 days')`,
        [i],
      );
      await db.query(
        `insert into ess.deliveries (token, correlation_id, connector, mapping, target_index, ordering_key, commit_lsn,
                                     ordinal, commit_time, state, payload, updated_at)
         values ($1, $1, 'c', 'm', 0, $2, '0/100', $3, now(), $4, '\\x00', now() - ($5 || ' hours')::interval)`,
        [`t${i}`, `k${i}`, i, state, i === 5 ? "0" : "48"],
      );
    }
    // One change no mapping wanted: its feed row has no delivery at all.
    await db.query(
      `insert into ess.feed (commit_lsn, ordinal, xid, commit_time, op, key, after, captured_at)
       values ('0/200', 0, 2, now(), 'insert', '{}', '{}', now() - interval '2 days')`,
    );
    await db.query("insert into ess.audit (event, at) values ('sent', now() - interval '500 days'), ('sent', now())");
    // Partners' answers: two old (one a 1 MiB replayed callback), one recent.
    await db.query(
      `insert into ess.inbound_events (connector, correlation, body, received_at)
       values ('c', 'old', '{}', now() - interval '2 days'),
              ('c', 'replayed', jsonb_build_object('pad', repeat('x', 1048576)), now() - interval '2 days'),
              ('c', 'recent', '{}', now())`,
    );

    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const report = await pruneLedger(client, "ess", {
      deliveredMs: 24 * 3600_000,
      auditMs: 400 * 24 * 3600_000,
      batchSize: 1,
    }).finally(() => client.end());
    expect(report).toMatchObject({ deliveries: 2, feed: 3, audit: 1, inbound: 2 });

    const left = await db.query<{ token: string; state: string }>(
      "select token, state from ess.deliveries order by token",
    );
    expect(left.rows.map((r) => `${r.token}:${r.state}`)).toEqual(["t2:pending", "t3:retrying", "t4:dead", "t5:sent"]);
    const feed = await db.query<{ ordinal: number }>(
      "select ordinal from ess.feed where commit_lsn = '0/100' order by ordinal",
    );
    expect(feed.rows.map((r) => r.ordinal)).toEqual([2, 3, 4, 5]);
    const audit = await db.query<{ n: string }>("select count(*) as n from ess.audit");
    expect(Number(audit.rows[0]?.n)).toBe(1);
    const inbound = await db.query<{ correlation: string }>("select correlation from ess.inbound_events");
    expect(inbound.rows.map((r) => r.correlation)).toEqual(["recent"]);
  });
});
