// SIGKILL while a 200,000-row transaction streams in (pgoutput protocol 2): killed once while the
// transaction is still open on the source, once while the source sends it again after its
// commit, and once while it moves into the feed a chunk at a time. After the last restart every
// row is delivered to the file drop exactly once, and an aborted streamed transaction delivers
// nothing.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../support/capture-fixture.js";
import { EssProcess } from "../support/ess-process.js";
import { createSite, type EssSite } from "../support/ess-site.js";

const ROWS = 200_000;

/** PERMIT_ID of every record in every finished drop file (fixed width 10, CRLF lines). */
async function droppedIds(dir: string): Promise<string[]> {
  const ids: string[] = [];
  for (const name of (await readdir(dir)).filter((n) => n.endsWith(".txt"))) {
    const body = await readFile(join(dir, name), "utf8");
    for (const line of body.split("\r\n")) if (line.length > 0) ids.push(line.slice(0, 10).trimEnd());
  }
  return ids;
}

describe("a streamed transaction survives SIGKILL", () => {
  let site: EssSite;
  let ess: EssProcess | undefined;

  const feedRows = async (): Promise<number> => {
    const r = await site.db.query<{ n: string }>("select count(*) as n from ess.feed");
    return Number(r.rows[0]?.n ?? 0);
  };

  const waiting = async (): Promise<number> => {
    const r = await site.db.query<{ n: string }>("select count(*) as n from ess.streamed_changes");
    return Number(r.rows[0]?.n ?? 0);
  };

  beforeAll(async () => {
    site = await createSite("streamed-crash", ({ dropDir }) => ({
      connectors: {
        drop: [
          "name: drop",
          "adapter: file",
          "file:",
          `  dir: ${dropDir}`,
          '  file: "permits_{batch}.txt"',
          "  mode: file-per-batch",
          "  tempSuffix: .part",
          "encoding: utf-8",
          "batch: { maxRecords: 5000, maxWait: 200ms }",
          "retry: { maxAttempts: 10, initialDelay: 200ms, maxDelay: 1s }",
          "",
        ].join("\n"),
      },
      mappings: {
        permit_status: [
          "name: permit_status",
          "source:",
          "  table: public.permits",
          "pii: [applicant_ssn]",
          "targets:",
          "  - connector: drop",
          "    format: fixed-width",
          "    fields:",
          "      PERMIT_ID: id | width:10",
          "      STATUS: status | width:10",
          "",
        ].join("\n"),
      },
    }));
    // The walsender reads this database's settings: a transaction past 1 MB of changes is streamed.
    await site.db.query(`alter database ${site.db.name} set logical_decoding_work_mem = '1MB'`);
  });
  afterAll(async () => {
    await ess?.kill9();
    await site?.cleanup();
  });

  it(`killed while ${ROWS.toLocaleString("en-US")} rows stream in, while they are sent again and while they move into the feed: each delivered once`, async () => {
    ess = EssProcess.start(site.configPath);
    await ess.waitForLog("replication started", 120_000);
    const writer = new pg.Client({ connectionString: site.db.url });
    await writer.connect();
    try {
      await writer.query("begin");
      for (let from = 1; from <= ROWS / 2; from += 25_000) {
        await writer.query(
          "insert into permits (id, status) select 'S' || g, 'STREAMED' from generate_series($1::int, $1::int + 24999) g",
          [from],
        );
      }
      // Kill 1: the transaction is open on the source, part of it waits in the ledger.
      await waitFor("segments of the open transaction in the ledger", async () => (await waiting()) > 10_000, 120_000);
      await ess.kill9();
      for (let from = ROWS / 2 + 1; from <= ROWS; from += 25_000) {
        await writer.query(
          "insert into permits (id, status) select 'S' || g, 'STREAMED' from generate_series($1::int, $1::int + 24999) g",
          [from],
        );
      }
      await writer.query("commit");
    } finally {
      await writer.end();
    }
    // Kill 2: the restarted process receives the committed transaction again from its start.
    ess = EssProcess.start(site.configPath);
    await waitFor("the transaction sent again", async () => (await waiting()) > 10_000, 180_000);
    await ess.kill9();
    // Kill 3: the committed transaction is moving from the waiting room into the feed a chunk at
    // a time, and its first chunks are being delivered.
    ess = EssProcess.start(site.configPath);
    await waitFor("part of the transaction in the feed", async () => (await feedRows()) >= 20_000, 180_000);
    await ess.kill9();
    const movedWhenKilled = await feedRows();
    expect(movedWhenKilled).toBeLessThan(ROWS);
    ess = EssProcess.start(site.configPath);
    await waitFor(`all ${ROWS} rows in the drop`, async () => (await droppedIds(site.dropDir)).length >= ROWS, 420_000);
    // A little longer: a duplicate would come now.
    await new Promise((r) => setTimeout(r, 1500));
    const ids = await droppedIds(site.dropDir);
    expect(ids.length).toBe(ROWS);
    expect(new Set(ids).size).toBe(ROWS);
    const feed = await site.db.query<{ n: string; commits: string }>(
      "select count(*) as n, count(distinct commit_lsn) as commits from ess.feed",
    );
    expect([Number(feed.rows[0]?.n), Number(feed.rows[0]?.commits)]).toEqual([ROWS, 1]);
    expect(await waiting()).toBe(0);
  }, 900_000);

  it("an aborted streamed transaction delivers nothing", async () => {
    ess ??= EssProcess.start(site.configPath);
    const client = new pg.Client({ connectionString: site.db.url });
    await client.connect();
    try {
      await client.query("begin");
      await client.query(
        "insert into permits (id, status) select 'A' || g, 'ABORTED' from generate_series(1, 50000) g",
      );
      await waitFor("segments of the open transaction in the ledger", async () => (await waiting()) > 0, 120_000);
      await client.query("rollback");
      await client.query("insert into permits (id, status) values ('AFTER', 'COMMITTED')");
    } finally {
      await client.end();
    }
    await waitFor(
      "the next transaction delivered",
      async () => (await droppedIds(site.dropDir)).includes("AFTER"),
      120_000,
    );
    const ids = await droppedIds(site.dropDir);
    expect(ids.filter((id) => id.startsWith("A") && id !== "AFTER")).toEqual([]);
    expect(ids.length).toBe(ROWS + 1);
    expect(await waiting()).toBe(0);
  }, 300_000);
});
