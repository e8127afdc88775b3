// A change the ledger refuses for any reason (an index entry too large, a constraint, a trigger)
// is kept as a dead letter naming the change, its table, its key and the reason; the changes
// around it are stored and delivered once, the checkpoint moves past it, and capture goes on.
import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EssEngine } from "../../src/engine.js";
import { listDeliveries } from "../../src/ledger/delivery-queries.js";
import { createLogger } from "../../src/ops/logger.js";
import { waitFor } from "../support/capture-fixture.js";
import { createSite, type EssSite } from "../support/ess-site.js";
import { startHttpServer, type TestHttpServer } from "../support/http-server.js";
import { gisRestConnector } from "../support/rest-connector.js";

const SOURCE_TABLES = `
  create table public.notes (id text primary key, note text);
  create table public.blocked (id text primary key, note text);
  alter publication ess_pub add table public.notes, public.blocked;
`;

// What an operator may add to a ledger: a btree index for support lookups (its entries are limited
// to about 2.7 kB), a check constraint, and a trigger that refuses every row of one table.
const LEDGER_ADDITIONS = `
  create index feed_note_lookup_idx on ess.feed ((after ->> 'note'));
  alter table ess.feed add constraint feed_note_not_quarantined check (coalesce(after ->> 'note', '') not like 'QUARANTINE%');
  create function ess.refuse_blocked() returns trigger language plpgsql as $$
  begin
    if new.table_name = 'blocked' then raise exception 'changes of table blocked are not kept here'; end if;
    return new;
  end $$;
  create trigger feed_refuse_blocked before insert on ess.feed for each row execute function ess.refuse_blocked();
`;

/** A note no index entry can hold: random text does not compress below the btree limit. */
const HUGE_NOTE = randomBytes(12_000).toString("base64");
const QUARANTINED_NOTE = "QUARANTINE 4111-1111-1111-1111";

function notesMapping(table: string): string {
  return [
    `name: ${table}`,
    "source:",
    `  table: public.${table}`,
    "targets:",
    "  - connector: gis",
    "    format: json",
    "    fields: { id: id, note: note }",
    "",
  ].join("\n");
}

describe("a change the ledger refuses", () => {
  let site: EssSite;
  let engine: EssEngine;
  let partner: TestHttpServer;
  const logLines: string[] = [];

  beforeAll(async () => {
    partner = await startHttpServer(() => ({ status: 201, body: "{}" }));
    site = await createSite("refused-changes", () => ({
      connectors: { gis: gisRestConnector(partner.url) },
      mappings: { notes: notesMapping("notes"), blocked: notesMapping("blocked") },
    }));
    await site.db.query(SOURCE_TABLES);
    await site.db.query(LEDGER_ADDITIONS);
    // The least the server allows, read by the walsender at its start: a few hundred rows are
    // enough for the server to stream a transaction while it is still open (protocol 2).
    await site.db.query(`alter database ${site.db.name} set logical_decoding_work_mem = '64kB'`);
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
        done();
      },
    });
    engine = await EssEngine.create(await site.load(), {
      logger: createLogger({ level: "info", destination }),
      pollMs: 25,
    });
    void engine.start();
  });
  afterAll(async () => {
    await engine?.stop();
    await partner?.stop();
    await site?.cleanup();
  });

  it("item 2: is a dead letter naming change, table, key and reason; every other change is delivered once and capture goes on", async () => {
    // One source transaction mixing good and refused changes, then one more of each kind alone.
    await site.db.query(`begin;
      insert into notes values ('good-1', 'fine');
      insert into notes values ('huge', '${HUGE_NOTE}');
      insert into notes values ('good-2', 'fine');
      insert into notes values ('quarantined', '${QUARANTINED_NOTE}');
      insert into notes values ('good-3', 'fine');
      commit;`);
    await site.db.query("insert into blocked values ('blocked-1', 'never kept')");
    await site.db.query("insert into notes values ('good-4', 'fine')");
    const after = await site.db.query<{ lsn: string }>("select pg_current_wal_lsn()::text as lsn");

    const good = ["good-1", "good-2", "good-3", "good-4"];
    await waitFor("the good changes to be sent", async () => {
      const r = await site.db.query<{ n: number }>(
        "select count(*)::int as n from ess.deliveries where state = 'sent' and ordering_key like '%good-%'",
      );
      return r.rows[0]?.n === good.length;
    });
    // Each good change reached the partner exactly once; the refused ones never did.
    const bodies = partner.requests.map((r) => r.body).join("\n");
    for (const id of good) expect(bodies.split(`"${id}"`).length - 1, id).toBe(1);
    expect(bodies).not.toContain("huge");
    expect(bodies).not.toContain("quarantined");

    // The dead letters, as `essctl list --state dead` reads them.
    const reader = new pg.Client({ connectionString: site.db.url });
    await reader.connect();
    const dead = await listDeliveries(reader, "ess", { state: "dead", limit: 10 }).finally(() => reader.end());
    expect(dead).toHaveLength(2);
    const reasons = dead.map((d) => d.lastError ?? "").sort();
    expect(reasons[0]).toMatch(
      /refused change [0-9A-F]+\/[0-9A-F]+\/1 \(table public\.notes, key \{"id":"huge"\}\).*SQLSTATE 54000/,
    );
    expect(reasons[1]).toMatch(
      /refused change [0-9A-F]+\/[0-9A-F]+\/3 \(table public\.notes, key \{"id":"quarantined"\}\).*SQLSTATE 23514/,
    );
    // The value itself is not repeated anywhere in the reason.
    for (const reason of reasons) {
      expect(reason).not.toContain(HUGE_NOTE.slice(0, 40));
      expect(reason).not.toContain("4111");
    }

    // Even the placeholder of a blocked change is refused: the audit trail keeps it.
    const audit = await site.db.query<{ detail: { table: string; stored: boolean }; error: string }>(
      "select detail, error from ess.audit where event = 'dead' and detail ->> 'stored' = 'false'",
    );
    expect(audit.rows).toHaveLength(1);
    expect(audit.rows[0]?.detail.table).toBe("public.blocked");
    expect(audit.rows[0]?.error).toMatch(/SQLSTATE P0001: changes of table blocked are not kept here/);

    // The slot's checkpoint moves past all of it: nothing is read again forever.
    await waitFor("the slot to confirm past the refused changes", async () => {
      const r = await site.db.query<{ past: boolean }>(
        "select confirmed_flush_lsn >= $1::pg_lsn as past from pg_replication_slots where slot_name = $2",
        [after.rows[0]?.lsn, (await site.load()).replication.slot],
      );
      return r.rows[0]?.past === true;
    });
    expect(engine.captureStatus()?.connected).toBe(true);

    // The log names the changes and the SQLSTATE, never the values.
    const logs = logLines.join("\n");
    expect(logs).toMatch(/refused a captured change/);
    expect(logs).toContain("54000");
    expect(logs).not.toContain(HUGE_NOTE.slice(0, 40));
    expect(logs).not.toContain("4111-1111");
  }, 90_000);

  it("item 2: a refused change inside a transaction streamed while open is a dead letter too; the rest of it is delivered once", async () => {
    const slot = (await site.load()).replication.slot;
    const streamedSoFar = async (): Promise<number> => {
      const r = await site.db.query<{ n: string }>(
        "select coalesce(sum(stream_txns), 0) as n from pg_stat_replication_slots where slot_name = $1",
        [slot],
      );
      return Number(r.rows[0]?.n ?? 0);
    };
    const streamedBefore = await streamedSoFar();
    const rows = 600;
    await site.db.query(`begin;
      insert into notes select 'streamed-' || g, repeat('n', 400) from generate_series(1, ${rows / 2}) g;
      insert into notes values ('streamed-huge', '${HUGE_NOTE}');
      insert into notes select 'streamed-' || g, repeat('n', 400) from generate_series(${rows / 2 + 1}, ${rows}) g;
      insert into notes values ('streamed-quarantined', '${QUARANTINED_NOTE}');
      commit;`);
    const after = await site.db.query<{ lsn: string }>("select pg_current_wal_lsn()::text as lsn");

    await waitFor("the streamed transaction's good changes to be sent", async () => {
      const r = await site.db.query<{ n: number }>(
        "select count(*)::int as n from ess.deliveries where state = 'sent' and ordering_key ~ 'streamed-[0-9]'",
      );
      return r.rows[0]?.n === rows;
    });
    // The server did stream it: it reached ESS in segments, not at its commit.
    expect(await streamedSoFar()).toBeGreaterThan(streamedBefore);
    const received = new Map<string, number>();
    for (const request of partner.requests) {
      for (const match of request.body.matchAll(/"(streamed-[0-9a-z]+)"/g)) {
        const id = match[1] as string;
        received.set(id, (received.get(id) ?? 0) + 1);
      }
    }
    expect(received.size).toBe(rows);
    expect([...received.values()].every((n) => n === 1)).toBe(true);

    const dead = await site.db.query<{ key: string; error: string }>(
      "select ordering_key as key, last_error as error from ess.deliveries where state = 'dead' and ordering_key like '%streamed-%' order by ordering_key",
    );
    expect(dead.rows).toHaveLength(2);
    expect(dead.rows.map((r) => r.error).join("\n")).toMatch(/key \{"id":"streamed-huge"\}\).*SQLSTATE 54000/);
    expect(dead.rows.map((r) => r.error).join("\n")).toMatch(/key \{"id":"streamed-quarantined"\}\).*SQLSTATE 23514/);

    // The waiting room is empty and the slot moved past the transaction; capture goes on.
    const waiting = await site.db.query<{ n: number }>("select count(*)::int as n from ess.streamed_changes");
    expect(waiting.rows[0]?.n).toBe(0);
    await waitFor("the slot to confirm past the streamed transaction", async () => {
      const r = await site.db.query<{ past: boolean }>(
        "select confirmed_flush_lsn >= $1::pg_lsn as past from pg_replication_slots where slot_name = $2",
        [after.rows[0]?.lsn, slot],
      );
      return r.rows[0]?.past === true;
    });
    await site.db.query("insert into notes values ('after-streamed', 'fine')");
    await waitFor("a change after the streamed transaction to be sent", async () => {
      const r = await site.db.query<{ n: number }>(
        "select count(*)::int as n from ess.deliveries where state = 'sent' and ordering_key like '%after-streamed%'",
      );
      return r.rows[0]?.n === 1;
    });
  }, 120_000);
});
