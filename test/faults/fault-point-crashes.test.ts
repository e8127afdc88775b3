import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminUrl } from "../support/database.js";
import { EssProcess } from "./ess-process.js";
import { createFaultSite, type FaultSite } from "./fault-site.js";
import { InvariantSampler } from "./invariant-sampler.js";
import { appendReceptions, dropReceptions, judge, type Verdict } from "./partner-view.js";
import { RestPartner } from "./rest-partner.js";
import { Workload } from "./workload.js";

/** Each fault point, aimed at each connector where it lies on that connector's path. */
const PLAN = [
  "claimed-before-send:drop_batches",
  "claimed-before-send:drop_append",
  "claimed-before-send:rest_partner",
  "accepted-before-ledger:drop_batches",
  "accepted-before-ledger:drop_append",
  "accepted-before-ledger:rest_partner",
  "temp-written-before-rename:drop_batches",
  "offset-recorded-before-append:drop_append",
  "stored-before-confirm",
  "capture-copy-midway",
] as const;

describe("a SIGKILL at every fault point loses nothing and applies nothing twice", () => {
  let site: FaultSite;
  let rest: RestPartner;
  beforeAll(async () => {
    rest = await RestPartner.start();
    const url = new URL(adminUrl());
    site = await createFaultSite({
      name: `points_${process.pid}`,
      restUrl: rest.url,
      urlFor: (database) => {
        url.pathname = `/${database}`;
        return url.toString();
      },
    });
  });
  afterAll(async () => {
    await site?.cleanup();
    await rest?.close();
  });

  it("each point is reached and killed in turn under load; the invariants hold at every sample and the partners end complete", async () => {
    const workload = new Workload({ url: site.sourceUrl, keys: 60, maxRows: 4, pauseMs: 80 });
    const sampler = new InvariantSampler({ ...site, workload, rest: () => rest.received });
    workload.start();
    sampler.start();
    let resentBatch: { name: string; ino: number; body: string } | undefined;
    try {
      for (const point of PLAN) {
        const ess = new EssProcess({ configPath: site.configPath, faults: point });
        const died = await ess.diedAtFaultPoint(40_000);
        await ess.kill9();
        expect(died, `the process never reached ${point}:\n${ess.stderr}`).toBe(true);
        if (point === "accepted-before-ledger:drop_batches") resentBatch = await newestBatchFile(site.dropDir);
      }
    } finally {
      await workload.stop();
    }
    const committed = await workload.committedInSource();
    const ess = new EssProcess({ configPath: site.configPath });
    let verdict: Verdict | undefined;
    try {
      // Until every partner has everything, or nothing new has arrived for 30 s (a loss).
      let lastLost = Number.POSITIVE_INFINITY;
      let progressAt = Date.now();
      while (Date.now() - progressAt < 30_000) {
        verdict = await partnerVerdict(site, rest, committed);
        if (verdict.lost === 0) break;
        if (verdict.lost < lastLost) progressAt = Date.now();
        lastLost = verdict.lost;
        await new Promise((r) => setTimeout(r, 250));
      }
    } finally {
      await ess.stop();
    }
    const report = await sampler.stop();
    expect(report.violations).toEqual([]);
    expect(verdict?.problems).toEqual([]);
    expect({ lost: verdict?.lost, duplicated: verdict?.duplicated }).toEqual({ lost: 0, duplicated: 0 });
    expect(committed.size).toBeGreaterThan(100);
    expect(report.transactionsChecked).toBeGreaterThan(100);
    // The batch the partner accepted just before the kill was sent again under the same name:
    // the file was replaced (a new inode from the rename) with the very same records.
    expect(resentBatch).toBeDefined();
    if (resentBatch) {
      const path = join(site.dropDir, resentBatch.name);
      expect((await stat(path)).ino).not.toBe(resentBatch.ino);
      expect(await readFile(path, "utf8")).toBe(resentBatch.body);
    }
  }, 600_000);
});

async function newestBatchFile(dir: string): Promise<{ name: string; ino: number; body: string } | undefined> {
  const name = (await readdir(dir))
    .filter((n) => n.endsWith(".txt"))
    .sort()
    .at(-1);
  if (!name) return undefined;
  const path = join(dir, name);
  return { name, ino: (await stat(path)).ino, body: await readFile(path, "utf8") };
}

async function partnerVerdict(
  site: FaultSite,
  rest: RestPartner,
  committed: ReadonlyMap<number, readonly string[]>,
): Promise<Verdict> {
  const receptions = new Map([
    ["drop_batches", await dropReceptions(site.dropDir)],
    ["drop_append", await appendReceptions(site.appendDir)],
    ["rest_partner", [...rest.received]],
  ]);
  return judge(committed, receptions, new Set(["drop_append"]));
}
