// The fault points again with the second decoder: wal2json on Debian's PostgreSQL 15, under a load
// that includes transactions larger than the capture batch, and one immediate restart of the server.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDebianPostgres } from "../support/debian-postgres.js";
import type { PostgresServer } from "../support/embedded-server.js";
import { EssProcess } from "./ess-process.js";
import { createFaultSite, type FaultSite } from "./fault-site.js";
import { InvariantSampler, type SamplerReport } from "./invariant-sampler.js";
import { appendReceptions, dropReceptions, judge, type Verdict } from "./partner-view.js";
import { Workload } from "./workload.js";

const PLAN = [
  "capture-copy-midway",
  "stored-before-confirm",
  "accepted-before-ledger:drop_batches",
  "offset-recorded-before-append:drop_append",
] as const;
const LARGE_ROWS = 6_000;

describe("SIGKILLs at the fault points with the wal2json decoder", () => {
  let server: PostgresServer;
  let site: FaultSite;
  beforeAll(async () => {
    // Fails loudly, naming the Debian packages, when PostgreSQL 15 or its wal2json is missing.
    // Commits durable before they return (the test servers' default is off): an immediate restart
    // must not take back a transaction the writer saw committed, or the sampler would count it.
    server = await startDebianPostgres({ version: 15, settings: { synchronous_commit: "on" } });
    site = await createFaultSite({ name: "wal2json", plugin: "wal2json", urlFor: (db) => server.url(db) });
  }, 120_000);
  afterAll(async () => {
    await site?.cleanup();
    await server?.stop();
  });

  it("each point is killed in turn, the server restarts once in immediate mode; every change reaches both partners once", async () => {
    const workload = new Workload({
      url: site.sourceUrl,
      keys: LARGE_ROWS,
      maxRows: 4,
      pauseMs: 80,
      largeEvery: 40,
      largeRows: LARGE_ROWS,
    });
    const sampler = new InvariantSampler({ ...site, workload, rest: () => [] });
    workload.start();
    sampler.start();
    let verdict: Verdict | undefined;
    let committed: Map<number, readonly string[]> = new Map();
    let report: SamplerReport;
    try {
      for (const [i, point] of PLAN.entries()) {
        const ess = new EssProcess({ configPath: site.configPath, faults: point });
        const died = await ess.diedAtFaultPoint(60_000);
        await ess.kill9();
        expect(died, `the process never reached ${point}:\n${ess.stderr}`).toBe(true);
        if (i === 1) await server.restartImmediately();
      }
      await workload.stop();
      committed = await workload.committedInSource();
      const ess = new EssProcess({ configPath: site.configPath });
      try {
        let lastLost = Number.POSITIVE_INFINITY;
        let progressAt = Date.now();
        while (Date.now() - progressAt < 60_000) {
          verdict = judge(
            committed,
            new Map([
              ["drop_batches", await dropReceptions(site.dropDir)],
              ["drop_append", await appendReceptions(site.appendDir)],
            ]),
            new Set(["drop_append"]),
          );
          if (verdict.lost === 0) break;
          if (verdict.lost < lastLost) progressAt = Date.now();
          lastLost = verdict.lost;
          await new Promise((r) => setTimeout(r, 500));
        }
      } finally {
        await ess.stop();
      }
    } finally {
      await workload.stop();
      report = await sampler.stop();
    }
    expect({
      violations: report.violations,
      problems: verdict?.problems,
      lost: verdict?.lost,
      duplicated: verdict?.duplicated,
    }).toEqual({ violations: [], problems: [], lost: 0, duplicated: 0 });
    expect([...committed.values()].some((keys) => keys.length >= LARGE_ROWS)).toBe(true);
    expect(report.transactionsChecked).toBeGreaterThan(20);
  }, 600_000);
});
