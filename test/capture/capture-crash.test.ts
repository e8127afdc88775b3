import { type ChildProcess, spawn } from "node:child_process";
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { prepareSource, slotFor, waitFor } from "../support/capture-fixture.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

const CAPTURE_PROCESS = fileURLToPath(new URL("../support/capture-process.ts", import.meta.url));

// The capture processes' warnings and errors go to a log file, shown only when the test fails.
const LOG_FILE = join(tmpdir(), `ess-capture-crash-${process.pid}-${Date.now()}.log`);

function spawnCapture(url: string): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", CAPTURE_PROCESS, url], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  child.stderr?.on("data", (chunk: Buffer) => appendFileSync(LOG_FILE, chunk));
  return child;
}

function showLogOnFailure(): void {
  onTestFailed(() => {
    const log = existsSync(LOG_FILE) ? readFileSync(LOG_FILE, "utf8") : "(nothing logged)";
    console.error(`capture processes' log (${LOG_FILE}):\n${log.slice(-8000)}`);
  });
}

async function kill9(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
}

describe("capture survives SIGKILL", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase("capture-crash");
    await prepareSource(db.url);
    // The slot must exist before the writer starts: changes committed before it are not in its stream.
    await db.query("select pg_create_logical_replication_slot($1, 'pgoutput')", [slotFor(db.url)]);
  });
  afterAll(async () => {
    await db.drop();
    await rm(LOG_FILE, { force: true });
  });

  it("killing the capture process while rows are written loses nothing and stores nothing twice", async () => {
    showLogOnFailure();
    let writing = true;
    let committedInserts = 0;
    let committedUpdates = 0;
    const writer = (async () => {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      let id = 1;
      try {
        while (writing) {
          const size = 1 + Math.floor(Math.random() * 25);
          await client.query("begin");
          for (let i = 0; i < size; i++) {
            await client.query("insert into permits (id, status, amount) values ($1, 'PENDING', $2)", [
              id++,
              `${id}.25`,
            ]);
          }
          await client.query("update permits set status = 'APPROVED' where id = $1", [id - 1]);
          await client.query("commit");
          committedInserts += size;
          committedUpdates += 1;
          // Bounded load: a few thousand changes across the kills is plenty, and keeps the run short.
          await new Promise((r) => setTimeout(r, 5));
        }
      } finally {
        await client.end();
      }
    })();

    let child = spawnCapture(db.url);
    const kills = 6;
    for (let k = 0; k < kills; k++) {
      await new Promise((r) => setTimeout(r, 600 + Math.random() * 900));
      await kill9(child);
      child = spawnCapture(db.url);
    }
    await new Promise((r) => setTimeout(r, 500));
    writing = false;
    await writer;

    try {
      const expected = committedInserts + committedUpdates;
      await waitFor(
        `all ${expected} committed changes in the ledger`,
        async () => {
          const r = await db.query<{ n: string }>("select count(*) as n from ess.feed");
          return Number(r.rows[0]?.n) >= expected;
        },
        60_000,
      );
      const feed = await db.query<{ op: string; n: string; distinct_keys: string }>(
        "select op, count(*) as n, count(distinct key->>'id') as distinct_keys from ess.feed group by op order by op",
      );
      const byOp = Object.fromEntries(feed.rows.map((r) => [r.op, r]));
      expect(Number(byOp.insert?.n)).toBe(committedInserts);
      expect(Number(byOp.insert?.distinct_keys)).toBe(committedInserts);
      expect(Number(byOp.update?.n)).toBe(committedUpdates);
      // Compare with the source table itself: every row it holds was captured as an insert.
      const missing = await db.query<{ n: string }>(
        "select count(*) as n from permits p where not exists (select 1 from ess.feed f where f.op = 'insert' and f.key->>'id' = p.id::text)",
      );
      expect(Number(missing.rows[0]?.n)).toBe(0);
      expect(committedInserts).toBeGreaterThan(100);
    } finally {
      await kill9(child);
    }
  }, 120_000);
});
