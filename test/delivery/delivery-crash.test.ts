import { type ChildProcess, spawn } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../support/capture-fixture.js";
import { createSite, type EssSite, fileDropConnector } from "../support/ess-site.js";
import { ESSCTL_NODE_ARGS } from "../support/essctl.js";
import { faultEnv } from "../support/fault-arming.js";

const KILLS = 22;

function startEss(configPath: string, faults: boolean): ChildProcess {
  return spawn(process.execPath, [...ESSCTL_NODE_ARGS, "start", "--config", configPath, "--lease-timeout", "1s"], {
    stdio: ["ignore", "ignore", "ignore"],
    env: { ...process.env, ESS_LOG_LEVEL: "warn", ...(faults ? faultEnv("accepted-before-ledger") : {}) },
  });
}

async function kill9(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
}

/** Every record of every drop file: PERMIT_ID(12) STATUS(6) TOKEN(45), CRLF-terminated. */
async function droppedRecords(dir: string): Promise<{ id: string; status: string; token: string }[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith(".txt"));
  const out: { id: string; status: string; token: string }[] = [];
  for (const name of names) {
    const body = await readFile(join(dir, name), "utf8");
    for (const line of body.split("\r\n").slice(0, -1)) {
      out.push({
        id: line.slice(0, 12).trimEnd(),
        status: line.slice(12, 18).trimEnd(),
        token: line.slice(18).trimEnd(),
      });
    }
  }
  return out;
}

describe("delivery survives SIGKILL at random points", () => {
  let site: EssSite;
  beforeAll(async () => {
    site = await createSite("delivery-crash", ({ dropDir }) => ({
      connectors: {
        city_drop: fileDropConnector("city_drop", dropDir)
          .replace("batch: { maxRecords: 50, maxWait: 200ms }", "batch: { maxRecords: 20, maxWait: 100ms }")
          .replace(
            // A batch killed more often than maxAttempts goes to the dead letters; this test is about
            // resending after kills, so the budget is larger than the kills.
            "maxAttempts: 3,",
            "maxAttempts: 40,",
          ),
      },
      mappings: {
        permit_status: [
          "name: permit_status",
          "source:",
          "  table: public.permits",
          "pii: [applicant_ssn]",
          "targets:",
          "  - connector: city_drop",
          "    format: fixed-width",
          "    fields:",
          "      PERMIT_ID: id | width:12",
          "      STATUS: status | width:6",
          "      TOKEN: _token | width:45",
          "",
        ].join("\n"),
      },
    }));
  });
  afterAll(async () => {
    await site?.cleanup();
  });

  it(`${KILLS} kills, some between the partner's acceptance and the ledger update: every change delivered, duplicates only with known tokens`, async () => {
    let writing = true;
    const committed: { id: string; status: string }[] = [];
    const writer = (async () => {
      const client = new pg.Client({ connectionString: site.db.url });
      await client.connect();
      let n = 0;
      try {
        while (writing) {
          const id = `P${n % 60}`;
          const version = Math.floor(n / 60);
          const status = `S${version}`;
          if (version === 0) await client.query("insert into permits (id, status) values ($1, $2)", [id, status]);
          else await client.query("update permits set status = $2 where id = $1", [id, status]);
          committed.push({ id, status });
          n++;
          await new Promise((r) => setTimeout(r, 8));
        }
      } finally {
        await client.end();
      }
    })();

    let child = startEss(site.configPath, false);
    let selfKills = 0;
    for (let k = 0; k < KILLS; k++) {
      if (k % 2 === 1) {
        // This run kills itself right after a partner accepted its first batch, before the ledger
        // knows (SIGKILL from inside); it is killed from outside only if that never comes. The
        // bound is generous: on a loaded machine the start-up alone can take many seconds.
        const exited = await Promise.race([
          new Promise<boolean>((resolve) => child.once("exit", () => resolve(true))),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 60_000)),
        ]);
        if (exited && child.signalCode === "SIGKILL") selfKills++;
      } else {
        await new Promise((r) => setTimeout(r, 700 + Math.random() * 900));
      }
      await kill9(child);
      child = startEss(site.configPath, k % 2 === 0);
    }
    writing = false;
    await writer;
    await kill9(child);
    child = startEss(site.configPath, false);
    try {
      await waitFor(
        `all ${committed.length} deliveries sent`,
        async () => {
          const r = await site.db.query<{ sent: string; other: string }>(
            "select count(*) filter (where state = 'sent') as sent, count(*) filter (where state <> 'sent') as other from ess.deliveries",
          );
          return Number(r.rows[0]?.sent) === committed.length && Number(r.rows[0]?.other) === 0;
        },
        90_000,
      );
    } finally {
      await kill9(child);
    }

    const records = await droppedRecords(site.dropDir);
    const ledgerTokens = new Set(
      (await site.db.query<{ token: string }>("select token from ess.deliveries")).rows.map((r) => r.token),
    );
    expect(ledgerTokens.size).toBe(committed.length);
    // At least once: every committed change is in some drop file.
    const delivered = new Set(records.map((r) => `${r.id}:${r.status}`));
    for (const change of committed) expect(delivered.has(`${change.id}:${change.status}`)).toBe(true);
    // Duplicates carry an already-seen token, and distinct tokens = expected deliveries.
    for (const r of records) expect(ledgerTokens.has(r.token)).toBe(true);
    const tokenOf = new Map<string, string>();
    for (const r of records) {
      const key = `${r.id}:${r.status}`;
      const known = tokenOf.get(key);
      if (known) expect(r.token).toBe(known);
      tokenOf.set(key, r.token);
    }
    expect(new Set(records.map((r) => r.token)).size).toBe(committed.length);
    // The kills really hit the window between "sent" and its ledger update: those batches were
    // taken over and attempted again.
    expect(selfKills).toBeGreaterThanOrEqual(KILLS / 2 - 2);
    const retried = await site.db.query<{ n: string }>("select count(*) as n from ess.batches where attempts > 1");
    expect(Number(retried.rows[0]?.n)).toBeGreaterThan(0);
  }, 480_000);
});
