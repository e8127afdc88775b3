// Values the ledger cannot hold as text (NUL, lone surrogates) in events and rows: the stream goes
// on, the change is kept in the feed, and its delivery is a dead letter naming the reason.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EssEngine } from "../../src/engine.js";
import { Gateway } from "../../src/index.js";
import { silentLogger } from "../../src/ops/logger.js";
import { waitFor } from "../support/capture-fixture.js";
import { createSite, type EssSite } from "../support/ess-site.js";
import { startHttpServer, type TestHttpServer } from "../support/http-server.js";
import { gisRestConnector } from "../support/rest-connector.js";

const NOTES_TABLE = `
  create table public.notes (id text primary key, doc json, docb jsonb, tags text[], data bytea);
  alter publication ess_pub add table public.notes;
`;

describe("values the ledger cannot hold as text", () => {
  let site: EssSite;
  let engine: EssEngine;
  let partner: TestHttpServer;
  let gateway: Gateway;

  beforeAll(async () => {
    partner = await startHttpServer(() => ({ status: 201, body: "{}" }));
    site = await createSite("poison-values", () => ({
      connectors: { gis: gisRestConnector(partner.url) },
      mappings: {
        visit_reschedule: [
          "name: visit_reschedule",
          "source:",
          "  topic: reschedule",
          "  key: [family]",
          "targets:",
          "  - connector: gis",
          "    format: json",
          "    fields: { family: family, new_date: new_date }",
          "",
        ].join("\n"),
        notes: [
          "name: notes",
          "source:",
          "  table: public.notes",
          "targets:",
          "  - connector: gis",
          "    format: json",
          "    fields: { id: id, doc: doc, docb: docb, tags: tags, data: data }",
          "",
        ].join("\n"),
      },
    }));
    await site.db.query(NOTES_TABLE);
    engine = await EssEngine.create(await site.load(), { logger: silentLogger(), pollMs: 25 });
    void engine.start();
    gateway = new Gateway({ databaseUrl: site.db.url });
  });
  afterAll(async () => {
    await gateway?.close();
    await engine?.stop();
    await partner?.stop();
    await site?.cleanup();
  });

  it("item 2: a Gateway event or a json row holding NUL is stored in the feed and dead-lettered with its reason; the stream goes on", async () => {
    const poison = await gateway.send({
      topic: "reschedule",
      payload: { family: "F\u0000NUL", new_date: "2024-05-04" },
    });
    const surrogate = await gateway.send({ topic: "reschedule", payload: { family: "F-LONE", new_date: "\ud800" } });
    await site.db.query("insert into notes (id, doc) values ('N-NUL', '{\"id\": \"a\\u0000b\"}')");
    await gateway.send({ topic: "reschedule", payload: { family: "F-OK", new_date: "2024-05-05" } });
    await site.db.query("insert into notes (id, doc, tags, data) values ('N-OK', '{\"a\": 1}', '{x,y}', '\\x00ff')");
    await waitFor("the good event and row to be sent", async () => {
      const r = await site.db.query<{ n: number }>(
        "select count(*)::int as n from ess.deliveries where state = 'sent' and (ordering_key like '%F-OK%' or ordering_key like '%N-OK%')",
      );
      return r.rows[0]?.n === 2;
    });
    for (const id of [poison.id, surrogate.id]) {
      expect(await gateway.receipt(id)).toBe("dead");
    }
    const dead = await site.db.query<{ last_error: string }>(
      "select last_error from ess.deliveries where state = 'dead' order by id",
    );
    expect(dead.rows).toHaveLength(3);
    for (const row of dead.rows) expect(row.last_error).toMatch(/NUL character or a lone UTF-16 surrogate/);
    // The feed holds every change, readable with ->> (what its indexes do).
    const feed = await site.db.query<{ n: number }>(
      "select count(*)::int as n from ess.feed where (after ->> 'id') is not null or topic = 'reschedule'",
    );
    expect(feed.rows[0]?.n).toBe(5);
    expect(engine.captureStatus()?.connected).toBe(true);
    const received = partner.requests.map((r) => r.body);
    expect(received.some((b) => b.includes("F-OK"))).toBe(true);
    expect(received.some((b) => b.includes("NUL"))).toBe(false);
  }, 60_000);
});
