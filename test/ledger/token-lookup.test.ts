import { sql } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { correlationIdFor, deliveryToken } from "../../src/delivery/token.js";
import { BatchClaims } from "../../src/ledger/batch-claims.js";
import { copyDeliveries } from "../../src/ledger/delivery-writer.js";
import { applyAnswer } from "../../src/ledger/inbound.js";
import { ledgerDb } from "../../src/ledger/ledger-db.js";
import { migrate } from "../../src/ledger/migrate.js";
import { sharedTokenPart, tokenPartOf } from "../../src/ledger/token-lookup.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

const tokenOf = (n: number) =>
  deliveryToken({ connector: "city_hall_cobol", mapping: "permit_status", targetIndex: 0, change: `0/1A2B3C/${n}` });

describe("the part of a token its correlation id shares", () => {
  it("is the same for a token and its correlation id, and differs between tokens", () => {
    const parts = new Set<string>();
    for (let n = 0; n < 200; n++) {
      const token = tokenOf(n);
      const part = sharedTokenPart(token);
      expect(part).toMatch(/^[0-9a-f]{24}$/);
      expect(sharedTokenPart(correlationIdFor(token))).toBe(part);
      parts.add(part as string);
    }
    expect(parts.size).toBe(200);
  });

  it("is null for what can be neither", () => {
    for (const quoted of ["", "ess-", "ess1-abc", "ESS-0123456789abcdef01234567", "42", "x".repeat(200)]) {
      expect(sharedTokenPart(quoted)).toBeNull();
    }
  });
});

describe("finding a delivery by its token or correlation id (migration 000010)", () => {
  let db: TestDatabase;
  let client: pg.Client;
  beforeAll(async () => {
    db = await createTestDatabase("token-lookup");
    await migrate({ connectionString: db.url, schema: "ess" });
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
    for (const n of [1, 2, 3]) {
      const token = tokenOf(n);
      await client.query(
        `insert into ess.delivery_items (token, correlation_id, connector, mapping, target_index, ordering_key,
           commit_lsn, ordinal, commit_time, state, payload)
         values ($1, $2, 'city_hall_cobol', 'permit_status', 0, $3, '0/1A2B3C', $4, now(), 'pending', '\\x41')`,
        [token, correlationIdFor(token), `permits:${n}`, n],
      );
    }
  });
  afterAll(async () => {
    await client?.end();
    await db?.drop();
  });

  it("reads the one hash index on the shared part, not the table", async () => {
    const query = ledgerDb(client, "ess")
      .selectFrom("delivery_items")
      .select("id")
      .where(tokenPartOf(sql.ref("token")), "=", sharedTokenPart(tokenOf(2)) as string)
      .compile();
    await client.query("set enable_seqscan = off");
    const plan = await client.query<{ "QUERY PLAN": string }>(`explain ${query.sql}`, [...query.parameters]);
    await client.query("reset enable_seqscan");
    expect(plan.rows.map((r) => r["QUERY PLAN"]).join("\n")).toContain("delivery_items_token_key_idx");
    const indexes = await client.query<{ indexname: string }>(
      "select indexname from pg_indexes where schemaname = 'ess' and tablename = 'delivery_items' order by 1",
    );
    const names = indexes.rows.map((r) => r.indexname);
    expect(names).not.toContain("delivery_items_token_idx");
    expect(names).not.toContain("delivery_items_correlation_idx");
    const fk = await client.query(
      "select 1 from pg_constraint where conrelid = 'ess.delivery_items'::regclass and contype = 'f'",
    );
    expect(fk.rowCount).toBe(0);
  });

  it("confirms the delivery a partner names by token or by correlation id, and no other", async () => {
    const byToken = await applyAnswer(client, "ess", {
      connector: "city_hall_cobol",
      correlation: tokenOf(1),
      status: "accepted",
      reference: null,
      message: null,
      body: {},
      via: "hmac",
    });
    const byCorrelation = await applyAnswer(client, "ess", {
      connector: "city_hall_cobol",
      correlation: correlationIdFor(tokenOf(3)),
      status: "accepted",
      reference: null,
      message: null,
      body: {},
      via: "hmac",
    });
    const unknown = await applyAnswer(client, "ess", {
      connector: "city_hall_cobol",
      correlation: `${correlationIdFor(tokenOf(2)).slice(0, -1)}z`,
      status: "accepted",
      reference: null,
      message: null,
      body: {},
      via: "hmac",
    });
    const found = await client.query<{ token: string; state: string }>(
      "select token, state from ess.deliveries order by ordinal",
    );
    expect(found.rows.map((r) => r.state)).toEqual(["confirmed", "pending", "confirmed"]);
    expect(byToken.kind === "applied" && byToken.token).toBe(tokenOf(1));
    expect(byCorrelation.kind === "applied" && byCorrelation.token).toBe(tokenOf(3));
    expect(unknown.kind).toBe("unmatched");
  });

  it("stores no correlation id for a captured delivery, and every reader derives the token's short form", async () => {
    const token = tokenOf(4);
    await client.query("begin");
    await copyDeliveries(client, "ess", [
      {
        token,
        correlationId: correlationIdFor(token),
        connector: "county_rest",
        mapping: "permit_status",
        targetIndex: 0,
        orderingKey: "permits:4",
        commitLsn: 0x1a2b3dn,
        ordinal: 0,
        commitTime: new Date(),
        state: "pending",
        payload: Buffer.from("A"),
        error: null,
      },
    ]);
    await client.query("commit");
    const stored = await client.query("select correlation_id from ess.delivery_items where token = $1", [token]);
    expect(stored.rows).toEqual([{ correlation_id: null }]);
    const viewed = await client.query("select correlation_id from ess.deliveries where token = $1", [token]);
    expect(viewed.rows).toEqual([{ correlation_id: correlationIdFor(token) }]);
    const batch = await new BatchClaims("ess").claim(client, {
      connector: "county_rest",
      ordering: "key",
      maxRecords: 10,
      maxWaitMs: 0,
      owner: "test",
      leaseMs: 60_000,
    });
    expect(batch?.items.map((i) => [i.token, i.correlationId])).toEqual([[token, correlationIdFor(token)]]);
  });
});
