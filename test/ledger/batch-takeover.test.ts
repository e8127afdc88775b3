// A batch whose owner died (its lease ran out) is taken over whole: the same batch, the same
// pinned file name, the same members with the same tokens, one attempt more, and it is sent
// again; nothing about it is assumed delivered.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EssEngine } from "../../src/engine.js";
import { BatchClaims, type ClaimedBatch, type ClaimOptions } from "../../src/ledger/batch-claims.js";
import { BatchOutcomes } from "../../src/ledger/batch-outcomes.js";
import { setPaused } from "../../src/ledger/connector-state.js";
import { silentLogger } from "../../src/ops/logger.js";
import { waitFor } from "../support/capture-fixture.js";
import { createSite, type EssSite, fileDropConnector, permitStatusMapping } from "../support/ess-site.js";

const ROWS = 12;

describe("taking over a batch after its lease expired", () => {
  let site: EssSite;
  let client: pg.Client;

  beforeAll(async () => {
    site = await createSite("batch-takeover", ({ dropDir }) => ({
      connectors: { city_drop: fileDropConnector("city_drop", dropDir) },
      mappings: { permit_status: permitStatusMapping("city_drop") },
    }));
    client = new pg.Client({ connectionString: site.db.url });
    await client.connect();
    // Captured but held: the claims below are this test's own.
    await setPaused(client, "ess", "city_drop", true);
    const engine = await EssEngine.create(await site.load(), { logger: silentLogger(), pollMs: 25 });
    void engine.start();
    try {
      const values = Array.from({ length: ROWS }, (_, i) => `('TAKE-${i}', 'APPROVED')`).join(", ");
      await site.db.query(`insert into permits (id, status) values ${values}`);
      await waitFor("the changes to be stored as deliveries", async () => {
        const r = await client.query<{ n: number }>(
          "select count(*)::int as n from ess.deliveries where connector = 'city_drop'",
        );
        return (r.rows[0]?.n ?? 0) === ROWS;
      });
    } finally {
      await engine.stop();
    }
    await setPaused(client, "ess", "city_drop", false);
  }, 120_000);

  afterAll(async () => {
    await client?.end();
    await site?.cleanup();
  });

  it("returns the same batch, name and members for a resend; only the batch's outcome ends it", async () => {
    const claims = new BatchClaims("ess");
    const outcomes = new BatchOutcomes("ess");
    const options = (owner: string, leaseMs: number): ClaimOptions => ({
      connector: "city_drop",
      ordering: "key",
      maxRecords: 50,
      maxWaitMs: 0,
      owner,
      leaseMs,
      maxAttempts: 10,
      nameFor: (b) => `permits_${String(b.sequence).padStart(6, "0")}.txt`,
    });
    const first = await claims.claim(client, options("owner-a", 10));
    expect(first).not.toBeNull();
    if (!first) return;
    expect(first.items).toHaveLength(ROWS);
    expect(first.name).toMatch(/^permits_\d{6}\.txt$/);
    // owner-a dies here: no outcome is ever written. Its lease runs out.
    await new Promise((r) => setTimeout(r, 50));
    const taken = await claims.claim(client, options("owner-b", 60_000));
    expect(taken, "a batch whose owner died was not handed out again").not.toBeNull();
    if (!taken) return;
    const shape = (b: ClaimedBatch) => ({ id: b.id, name: b.name, tokens: b.items.map((i) => i.token) });
    expect(shape(taken)).toEqual(shape(first));
    expect(taken.attempt).toBe(first.attempt + 1);
    expect(taken.resumed).toBe(true);
    const state = await client.query<{ state: string; n: number }>(
      "select state, count(*)::int as n from ess.deliveries where connector = 'city_drop' group by state",
    );
    expect(state.rows).toEqual([{ state: "sending", n: ROWS }]);
    // No new batch while it is leased; after the owner's outcome, none of its members again.
    expect(await claims.claim(client, options("owner-c", 60_000))).toBeNull();
    const recorded = await outcomes.recordItems(
      client,
      { id: taken.id, connector: "city_drop", attempt: taken.attempt, owner: "owner-b", run: taken.run },
      taken.items.map((item) => ({ id: item.id, token: item.token, verdict: "sent" as const })),
    );
    expect(recorded).toBe(true);
    expect(await claims.claim(client, options("owner-c", 60_000))).toBeNull();
    const after = await client.query<{ state: string; n: number }>(
      "select state, count(*)::int as n from ess.deliveries where connector = 'city_drop' group by state",
    );
    expect(after.rows).toEqual([{ state: "sent", n: ROWS }]);
  }, 60_000);
});
