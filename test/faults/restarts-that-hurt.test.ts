// Restarts that hurt: PostgreSQL stopped in immediate mode while ESS is in the middle of a capture
// COPY, with transactions larger than the capture batch (5,000 rows); and a ledger on a server of
// its own (`ledger.url`) restarted alone, also mid-COPY. Every change reaches every partner once.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PostgresServer, startEmbeddedPostgres } from "../support/embedded-server.js";
import { EssProcess } from "./ess-process.js";
import { createFaultSite, type FaultSite } from "./fault-site.js";
import { InvariantSampler } from "./invariant-sampler.js";
import { appendReceptions, dropReceptions, receiveEverything } from "./partner-view.js";
import { Workload } from "./workload.js";

/** Larger than the capture pipeline's batch of 5,000 rows, so one transaction takes several COPYs. */
const LARGE_ROWS = 6_000;

/**
 * The partners' batch: these runs aim at capture, and the large transactions' deliveries in the
 * fault suite's usual batches of 40 made most of their time.
 */
const DROP_BATCH = 1_000;

const urlOn = (server: PostgresServer) => (database: string) => server.url(database);

/** Waits until the server runs a COPY in `database` (a capture flush), up to `ms`; true if seen. */
async function copyInFlight(url: string, database: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const client = new pg.Client({ connectionString: url });
    client.on("error", () => undefined);
    try {
      await client.connect();
      while (Date.now() < deadline) {
        const r = await client.query<{ n: number }>(
          `select count(*)::int as n from pg_stat_activity
            where datname = $1 and state = 'active' and query ilike 'copy %'`,
          [database],
        );
        if ((r.rows[0]?.n ?? 0) > 0) return true;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  return false;
}

/** Runs ESS under a load with large transactions while the server `victim` is restarted once, mid-COPY. */
async function restartUnderLoad(site: FaultSite, victim: PostgresServer, victimDatabase: string) {
  const workload = new Workload({
    url: site.sourceUrl,
    keys: LARGE_ROWS,
    maxRows: 4,
    pauseMs: 50,
    // One large transaction in 30: enough COPYs to aim at, a backlog a loaded machine drains.
    largeEvery: 30,
    largeRows: LARGE_ROWS,
  });
  const sampler = new InvariantSampler({ ...site, workload, rest: () => [] });
  let ess = new EssProcess({ configPath: site.configPath });
  let exits = 0;
  // ESS rides out a restart; should it give up instead, it is started again as a service manager would, and counted.
  const startAgainIfExited = () => {
    if (ess.running) return;
    exits++;
    ess = new EssProcess({ configPath: site.configPath });
  };
  try {
    expect(await ess.started, ess.stderr).toBe(true);
    // Writes begin once ESS runs: a backlog built while it starts would only lengthen the drain.
    workload.start();
    sampler.start();
    // Aimed once a transaction larger than the capture batch is committed: its capture takes several COPYs.
    const largeBy = Date.now() + 60_000;
    while (!workload.committed.some((t) => t.keys.length >= LARGE_ROWS) && Date.now() < largeBy) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const midCopy = await copyInFlight(victim.url("postgres"), victimDatabase, 60_000);
    await victim.restartImmediately();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    startAgainIfExited();
    await workload.stop();
    const committed = await workload.committedInSource();
    let large = 0;
    for (const keys of committed.values()) if (keys.length >= LARGE_ROWS) large++;
    const verdict = await receiveEverything({
      committed,
      receptions: async () =>
        new Map([
          ["drop_batches", await dropReceptions(site.dropDir)],
          ["drop_append", await appendReceptions(site.appendDir)],
        ]),
      appendOnly: new Set(["drop_append"]),
      quietMs: 60_000,
      beforeLook: startAgainIfExited,
    });
    return { verdict, midCopy, exits, large, committed: committed.size, report: await sampler.stop() };
  } finally {
    await workload.stop();
    await ess.stop();
    await sampler.stop().catch(() => undefined);
  }
}

describe("PostgreSQL stopped in immediate mode in the middle of a capture COPY", () => {
  let server: PostgresServer;
  let site: FaultSite;
  beforeAll(async () => {
    server = await startEmbeddedPostgres();
    site = await createFaultSite({
      name: "immediate",
      urlFor: urlOn(server),
      maxWait: "200ms",
      maxRecords: DROP_BATCH,
    });
  }, 120_000);
  afterAll(async () => {
    await site?.cleanup();
    await server?.stop();
  });

  it("an immediate restart aimed at a capture flush of transactions larger than the capture batch: nothing lost, nothing twice", async () => {
    const run = await restartUnderLoad(site, server, "ess_f_immediate");
    expect(run.report.violations).toEqual([]);
    expect(run.verdict.problems).toEqual([]);
    expect({ lost: run.verdict.lost, duplicated: run.verdict.duplicated }).toEqual({ lost: 0, duplicated: 0 });
    expect(run.midCopy, "the restart met no capture COPY in flight").toBe(true);
    expect(run.large, "no transaction larger than the capture batch was committed").toBeGreaterThan(0);
    expect(run.exits, "ESS exited on a restart of its database instead of reconnecting").toBe(0);
  }, 600_000);
});

describe("a ledger on its own server (ledger.url), restarted alone", () => {
  let source: PostgresServer;
  let ledger: PostgresServer;
  let site: FaultSite;
  beforeAll(async () => {
    [source, ledger] = await Promise.all([startEmbeddedPostgres(), startEmbeddedPostgres()]);
    site = await createFaultSite({
      name: "own_ledger",
      urlFor: urlOn(source),
      ledgerUrlFor: urlOn(ledger),
      maxWait: "200ms",
      maxRecords: DROP_BATCH,
    });
  }, 120_000);
  afterAll(async () => {
    await site?.cleanup();
    await Promise.all([source?.stop(), ledger?.stop()]);
  });

  it("an immediate restart of the ledger's server alone, aimed at its capture COPY: nothing lost, nothing twice", async () => {
    const run = await restartUnderLoad(site, ledger, "ess_f_own_ledger_ledger");
    expect(site.ledgerUrl).not.toBe(site.sourceUrl);
    expect(run.report.violations).toEqual([]);
    expect(run.verdict.problems).toEqual([]);
    expect({ lost: run.verdict.lost, duplicated: run.verdict.duplicated }).toEqual({ lost: 0, duplicated: 0 });
    expect(run.midCopy, "the restart met no capture COPY in flight").toBe(true);
    expect(run.large).toBeGreaterThan(0);
    expect(run.exits, "ESS exited on a restart of its ledger instead of reconnecting").toBe(0);
  }, 600_000);
});
