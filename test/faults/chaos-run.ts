// The chaos run: random SIGKILLs of a capture-and-delivery process and of a delivery-only process
// (some of them at armed fault points), PostgreSQL stopped in immediate mode and restarted, and
// REST partner outages with their open sessions cut, all under a steady write load, bounded in
// count and time. It ends with a full comparison of what every partner received against the
// transactions the source committed, and a summary line.
import { FAULT_POINTS } from "../../src/fault-points.js";
import { startEmbeddedPostgres } from "../support/embedded-server.js";
import { EssProcess } from "./ess-process.js";
import { createFaultSite } from "./fault-site.js";
import { InvariantSampler } from "./invariant-sampler.js";
import { appendReceptions, dropReceptions, judge, type Verdict } from "./partner-view.js";
import { RestPartner } from "./rest-partner.js";
import { Workload } from "./workload.js";

export interface ChaosOptions {
  readonly kills: number;
  /** How long the kills are spread over. */
  readonly seconds: number;
  /** PostgreSQL immediate restarts (default: one per 12 kills, at least one). */
  readonly restarts?: number;
  /** REST partner outages (default: one per 10 kills, at least one). */
  readonly outages?: number;
  /** How long to wait for the partners to catch up after the last fault, at most. */
  readonly drainSeconds?: number;
  readonly log?: (line: string) => void;
}

export interface ChaosSummary {
  readonly kills: number;
  /** Of the kills, those a process did to itself at an armed fault point. */
  readonly faultPointKills: number;
  readonly restarts: number;
  readonly outages: number;
  /** Changes the source committed (rows written by committed transactions). */
  readonly changes: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly violations: readonly string[];
  readonly problems: readonly string[];
  readonly samples: number;
  readonly seconds: number;
}

export function summaryLine(s: ChaosSummary): string {
  return (
    `kills ${s.kills}, restarts ${s.restarts}, outages ${s.outages}, changes ${s.changes}, ` +
    `lost ${s.lost}, duplicated ${s.duplicated} ` +
    `(${s.faultPointKills} kills at fault points, ${s.violations.length} invariant violations in ${s.samples} samples, ${s.seconds} s)`
  );
}

const CONNECTORS = ["drop_batches", "drop_append", "rest_partner"] as const;

/** A fault point for a restarted process, or none; most restarts run unarmed. */
function randomFaults(): string | undefined {
  if (Math.random() >= 0.3) return undefined;
  const point = FAULT_POINTS[Math.floor(Math.random() * FAULT_POINTS.length)] as string;
  const nth = 1 + Math.floor(Math.random() * 3);
  const scoped = point === "stored-before-confirm" || point === "capture-copy-midway";
  const connector = CONNECTORS[Math.floor(Math.random() * CONNECTORS.length)] as string;
  return scoped ? `${point}@${nth}` : `${point}:${connector}@${nth}`;
}

/** How many of the planned indexes lie below `count`. */
function dueBy(planned: ReadonlySet<number>, count: number): number {
  let n = 0;
  for (const index of planned) if (index < count) n++;
  return n;
}

function spreadOver(count: number, slots: number): Set<number> {
  const chosen = new Set<number>();
  for (let i = 0; i < count; i++) chosen.add(Math.floor(((i + 0.5) * slots) / count));
  return chosen;
}

export async function runChaos(options: ChaosOptions): Promise<ChaosSummary> {
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  const restarts = options.restarts ?? Math.max(1, Math.round(options.kills / 12));
  const outages = options.outages ?? Math.max(1, Math.round(options.kills / 10));
  const restartAt = spreadOver(restarts, options.kills);
  const outageAt = spreadOver(outages, options.kills);
  const server = await startEmbeddedPostgres();
  const rest = await RestPartner.start();
  const processes: { capture: EssProcess | undefined; delivery: EssProcess | undefined } = {
    capture: undefined,
    delivery: undefined,
  };
  try {
    const site = await createFaultSite({ name: "chaos", urlFor: (db) => server.url(db), restUrl: rest.url });
    try {
      const workload = new Workload({ url: site.sourceUrl, keys: 200, maxRows: 5, pauseMs: 40 });
      const sampler = new InvariantSampler({ ...site, workload, rest: () => rest.received });
      const start = (role: "capture" | "delivery", faults?: string) =>
        new EssProcess({
          configPath: site.configPath,
          noCapture: role === "delivery",
          ...(faults ? { faults } : {}),
        });
      const progress = async () =>
        `${workload.committed.length} transactions committed; received: ` +
        `${(await dropReceptions(site.dropDir)).length} dropped, ${(await appendReceptions(site.appendDir)).length} appended, ` +
        `${rest.received.length} over REST`;
      workload.start();
      sampler.start();
      processes.capture = start("capture");
      processes.delivery = start("delivery");
      let kills = 0;
      let faultPointKills = 0;
      let done = 0;
      const outagesBegun: Promise<void>[] = [];
      // One armed process at a time: two dying at their fault points between two kills would
      // take the run past the kills it was asked for.
      const armed = { capture: false, delivery: false };
      const restart = (role: "capture" | "delivery") => {
        const faults = armed[role === "capture" ? "delivery" : "capture"] ? undefined : randomFaults();
        armed[role] = faults !== undefined;
        return start(role, faults);
      };
      const intervalMs = (options.seconds * 1000) / Math.max(1, options.kills);
      for (let k = 0; k < options.kills; k++) {
        if (kills >= options.kills) break;
        await new Promise((r) => setTimeout(r, intervalMs * (0.5 + Math.random())));
        for (const role of ["capture", "delivery"] as const) {
          const current = processes[role];
          if (current && !current.running && current.firedPoint) {
            // It died at its armed fault point: that was one of the kills.
            faultPointKills++;
            kills++;
            processes[role] = restart(role);
          } else if (current && !current.running) {
            // Started while PostgreSQL was down: essctl start gives up on set-up errors.
            log(`the ${role} process exited (code ${current.child.exitCode}): ${current.stderr.slice(-300)}`);
            processes[role] = restart(role);
          }
        }
        if (kills >= options.kills) break;
        const role = Math.random() < 0.5 ? "capture" : "delivery";
        await processes[role]?.kill9();
        kills++;
        processes[role] = restart(role);
        // A process killed before it ever ran tests nothing: the next kill waits for it to be up.
        await Promise.race([processes[role]?.started, new Promise((r) => setTimeout(r, 60_000))]);
        // Planned by kill count, not by loop turn: a turn that also counted a fault-point death
        // moves past a planned index, and every planned restart and outage must still happen.
        if (done < dueBy(restartAt, kills)) {
          log(`PostgreSQL immediate restart ${++done}`);
          await server.restartImmediately();
        }
        if (outagesBegun.length < dueBy(outageAt, kills)) outagesBegun.push(rest.outage(1000 + Math.random() * 1500));
        if ((k + 1) % 10 === 0) log(`${k + 1} kills: ${await progress()}`);
      }
      // The kill budget can run out at a fault-point death before the last planned hurts.
      while (done < restartAt.size) {
        log(`PostgreSQL immediate restart ${++done}`);
        await server.restartImmediately();
      }
      while (outagesBegun.length < outageAt.size) outagesBegun.push(rest.outage(1000 + Math.random() * 1500));
      await workload.stop();
      // The end: unarmed processes only, and time for the partners to catch up.
      for (const role of ["capture", "delivery"] as const) {
        const current = processes[role];
        if (current && !current.running && current.firedPoint) faultPointKills++;
        await current?.kill9();
        processes[role] = start(role);
      }
      // Every outage is over (the partner listens again) before the final count.
      await Promise.all(outagesBegun);
      const committed = await workload.committedInSource();
      await Promise.all([processes.capture?.started, processes.delivery?.started]);
      let verdict: Verdict = { lost: Number.POSITIVE_INFINITY, duplicated: 0, problems: [] };
      // Until every partner has everything, or nothing new arrived for a minute (a loss).
      let progressAt = Date.now();
      const deadline = Date.now() + (options.drainSeconds ?? 300) * 1000;
      while (Date.now() - progressAt < 60_000 && Date.now() < deadline) {
        const previous = verdict.lost;
        verdict = judge(
          committed,
          new Map([
            ["drop_batches", await dropReceptions(site.dropDir)],
            ["drop_append", await appendReceptions(site.appendDir)],
            ["rest_partner", [...rest.received]],
          ]),
          new Set(["drop_append"]),
        );
        if (verdict.lost === 0) break;
        if (verdict.lost < previous) progressAt = Date.now();
        await new Promise((r) => setTimeout(r, 500));
      }
      log(`drained: ${await progress()}`);
      for (const role of ["capture", "delivery"] as const) await processes[role]?.stop();
      const report = await sampler.stop();
      let changes = 0;
      for (const keys of committed.values()) changes += keys.length;
      return {
        kills,
        faultPointKills,
        restarts: done,
        outages: rest.outages,
        changes,
        lost: verdict.lost,
        duplicated: verdict.duplicated,
        violations: report.violations,
        problems: verdict.problems,
        samples: report.samples,
        seconds: Math.round((Date.now() - started) / 1000),
      };
    } finally {
      await site.cleanup().catch(() => undefined);
    }
  } finally {
    for (const role of ["capture", "delivery"] as const) await processes[role]?.kill9();
    await rest.close();
    await server.stop();
  }
}
