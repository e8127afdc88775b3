import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate } from "../../src/ledger/migrate.js";
import { readConnectorGauges } from "../../src/ledger/readings.js";
import { EssMetrics } from "../../src/ops/metrics.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { parseMetrics, Scrape } from "./ops-client.js";

/** Delivered rows retention keeps: the gauges must not read them. */
const DELIVERED = 60_000;

async function insertDeliveries(
  db: TestDatabase,
  connector: string,
  state: string,
  n: number,
  extra = "",
): Promise<void> {
  await db.query(
    `insert into ess.deliveries (token, correlation_id, connector, mapping, target_index, ordering_key, commit_time, state${extra ? ", created_at" : ""})
     select $1 || '-' || $2 || '-' || i || '-' || gen_random_uuid(), 'ess-' || i, $1, 'm', 0, 'k' || i, now(), $2${extra ? `, ${extra}` : ""}
       from generate_series(1, $3::int) i`,
    [connector, state, n],
  );
}

async function withClient<T>(db: TestDatabase, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

describe("ess_deliveries{connector,state} and the backlog age", () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase("delivery-gauges");
    await migrate({ connectionString: db.url, schema: "ess" });
    await db.query("insert into ess.connectors (connector) values ('gis'), ('city'), ('idle')");
    await db.query("update ess.connectors set online = false where connector = 'city'");
    await insertDeliveries(db, "gis", "sent", DELIVERED);
    await insertDeliveries(db, "gis", "confirmed", 5);
    await insertDeliveries(db, "gis", "pending", 4, "now() - interval '90 minutes'");
    await insertDeliveries(db, "gis", "retrying", 3);
    await insertDeliveries(db, "gis", "dead", 2);
    await insertDeliveries(db, "city", "sending", 6);
    // The city's deliveries travel in a batch formed two hours ago that waits for its retry.
    await db.query(
      `insert into ess.batches (connector, sequence, state, created_at) values ('city', 1, 'retrying', now() - interval '2 hours')`,
    );
    await db.query("update ess.deliveries set batch_id = (select max(id) from ess.batches) where connector = 'city'");
    await db.query("analyze ess.deliveries");
  });
  afterAll(async () => {
    await db?.drop();
  });

  it("counts pending, sending, retrying and dead per connector and exposes them with the oldest waiting age", async () => {
    const values = await withClient(db, (client) => readConnectorGauges(client, "ess"));
    const byName = new Map(values.map((v) => [v.connector, v]));
    expect(byName.get("gis")?.deliveries).toEqual({ pending: 4, sending: 0, retrying: 3, dead: 2 });
    expect(byName.get("city")?.deliveries).toEqual({ pending: 0, sending: 6, retrying: 0, dead: 0 });
    expect(byName.get("idle")?.deliveries).toEqual({ pending: 0, sending: 0, retrying: 0, dead: 0 });
    expect(byName.get("gis")?.oldestWaitingSeconds).toBeGreaterThanOrEqual(90 * 60);
    expect(byName.get("gis")?.oldestWaitingSeconds).toBeLessThan(100 * 60);
    expect(byName.get("city")?.oldestWaitingSeconds).toBeGreaterThanOrEqual(120 * 60);
    expect(byName.get("idle")?.oldestWaitingSeconds).toBe(0);
    expect(byName.get("city")?.up).toBe(false);
    expect(byName.get("gis")?.up).toBe(true);

    const metrics = new EssMetrics({ connectors: ["gis", "city", "idle"], processMetrics: false });
    metrics.setConnectorCounts(values);
    const text = await metrics.render();
    const scrape = new Scrape(text, parseMetrics(text));
    expect(scrape.value("ess_deliveries", { connector: "gis", state: "pending" })).toBe(4);
    expect(scrape.value("ess_deliveries", { connector: "gis", state: "retrying" })).toBe(3);
    expect(scrape.value("ess_deliveries", { connector: "gis", state: "dead" })).toBe(2);
    expect(scrape.value("ess_deliveries", { connector: "city", state: "sending" })).toBe(6);
    expect(scrape.value("ess_deliveries", { connector: "idle", state: "pending" })).toBe(0);
    // The older metrics read the same reading.
    expect(scrape.value("ess_retry_pending", { connector: "gis" })).toBe(3);
    expect(scrape.value("ess_dead_letters", { connector: "gis" })).toBe(2);
    expect(scrape.value("ess_backlog_age_seconds", { connector: "city" })).toBeGreaterThanOrEqual(7200);
    expect(scrape.value("ess_connector_up", { connector: "city" })).toBe(0);
    // No state outside the four.
    expect(scrape.text).not.toMatch(/ess_deliveries\{[^}]*state="(sent|confirmed)"/);
  });

  it("reads only the backlog: the delivered rows retention keeps are not read", async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const tuplesRead = async (): Promise<number> => {
        await client.query("select pg_stat_force_next_flush()");
        await client.query("select pg_stat_clear_snapshot()");
        const r = await client.query<{ n: string }>(
          `select coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) as n
             from pg_stat_user_tables where schemaname = 'ess' and relname = 'delivery_items'`,
        );
        return Number(r.rows[0]?.n);
      };
      const before = await tuplesRead();
      await readConnectorGauges(client, "ess");
      const read = (await tuplesRead()) - before;
      // The backlog is 15 rows; a scan of the delivered ones would read 60,000.
      expect(read).toBeLessThan(1_000);
    } finally {
      await client.end();
    }
  });
});
