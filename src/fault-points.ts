// Named crash points for the fault-injection tests: code calls faultPoint("<name>") at a place
// where a crash must be survivable, and a test run can make the process SIGKILL itself there.
//
// Reachable only from the test suite. A point fires only when all three hold:
//   1. this module runs from its TypeScript source (`tsx src/...`) or from the test suite's
//      bundle, which is built with ESS_TEST_BUILD defined; the built package (dist/, what
//      `npm ci` installs and operators run) never fires a point;
//   2. ESS_FAULT_ARMING_FILE names a file whose whole content equals ESS_FAULT_ARMING_KEY (at
//      least 32 characters): the harness writes a fresh random key into a file it creates for
//      each run (test/support/fault-arming.ts), which no configuration file can provide;
//   3. ESS_FAULT_POINTS selects the point: `name` (first hit), `name=0.3` (each hit with that
//      probability) or `name@4` (the fourth hit), comma-separated; `name:scope` (e.g. a
//      connector's name) counts and fires only the hits of that scope.
// ESS_FAULT_KILL_AFTER_SEND=<probability> is the older spelling of `accepted-before-ledger=<p>`
// and obeys the same arming. Settings that are present but not armed are ignored, and
// ignoredFaultSettings() says so for a warning at start-up.
import { readFileSync, writeSync } from "node:fs";

/** Every place a test can crash the process. */
export const FAULT_POINTS = [
  /** A delivery worker claimed a batch and has not sent it yet. */
  "claimed-before-send",
  /** The partner accepted a batch; the ledger does not know yet. */
  "accepted-before-ledger",
  /** Captured changes are committed in the ledger; the slot is not confirmed yet. */
  "stored-before-confirm",
  /** A capture COPY into the feed has begun and not ended. */
  "capture-copy-midway",
  /** An append's offset is recorded in the ledger; the bytes are not appended yet. */
  "offset-recorded-before-append",
  /** A drop file's temporary copy is complete; it is not renamed into place yet. */
  "temp-written-before-rename",
  /** A partner's answer file is read; its answers are not applied yet. */
  "answer-file-read-before-apply",
  /** A partner's answer file is applied in the ledger; it is not moved to done yet. */
  "answers-applied-before-move",
] as const;

export type FaultPoint = (typeof FAULT_POINTS)[number];

type Trigger = ({ readonly probability: number } | { readonly nth: number }) & { readonly scope?: string };

export class FaultSettingsError extends Error {
  override readonly name = "FaultSettingsError";
  readonly variable: string;
  readonly entry: string;
  constructor({
    variable,
    entry,
    reason,
  }: { readonly variable: string; readonly entry: string; readonly reason: string }) {
    super(`${variable}: ${reason} in "${entry}"`);
    this.variable = variable;
    this.entry = entry;
  }
}

// Replaced by `true` in the test suite's bundle; in the package's build it is no binding at all.
declare const ESS_TEST_BUILD: boolean | undefined;
const FROM_SOURCE = import.meta.url.endsWith(".ts") || (typeof ESS_TEST_BUILD !== "undefined" && ESS_TEST_BUILD);
const MIN_KEY_LENGTH = 32;

let triggers: ReadonlyMap<FaultPoint, Trigger> | undefined;
const hits = new Map<FaultPoint, number>();

/**
 * Crashes the process here (SIGKILL, no clean-up) when a test run armed this point; otherwise
 * nothing. `scope` (a connector's name) lets a test aim at one connector.
 */
export function faultPoint(point: FaultPoint, scope?: string): void {
  triggers ??= armedTriggers(process.env);
  if (triggers.size === 0) return;
  const trigger = triggers.get(point);
  if (!trigger || (trigger.scope !== undefined && trigger.scope !== scope)) return;
  const hit = (hits.get(point) ?? 0) + 1;
  hits.set(point, hit);
  const fire = "nth" in trigger ? hit === trigger.nth : Math.random() < trigger.probability;
  if (!fire) return;
  // Synchronous, so the marker is out before the process is gone: tests assert the point was reached.
  writeSync(2, `ess fault point ${point} fired (${scope ?? "-"}, pid ${process.pid}, hit ${hit})\n`);
  process.kill(process.pid, "SIGKILL");
}

/** The armed points for an environment: empty unless the three conditions above hold. */
export function armedTriggers(env: NodeJS.ProcessEnv): ReadonlyMap<FaultPoint, Trigger> {
  if (!FROM_SOURCE || !isArmed(env)) return new Map();
  return parseFaultSettings(env);
}

/** A warning for settings that ask for fault points where none can fire (e.g. in production). */
export function ignoredFaultSettings(env: NodeJS.ProcessEnv): string | undefined {
  const present = ["ESS_FAULT_POINTS", "ESS_FAULT_KILL_AFTER_SEND"].filter((v) => env[v]);
  if (present.length === 0 || armedTriggers(env).size > 0) return undefined;
  return `${present.join(" and ")} ignored: fault points fire only inside the test suite`;
}

/** Parses ESS_FAULT_POINTS (and the older ESS_FAULT_KILL_AFTER_SEND) without checking the arming. */
export function parseFaultSettings(env: NodeJS.ProcessEnv): ReadonlyMap<FaultPoint, Trigger> {
  const result = new Map<FaultPoint, Trigger>();
  const legacy = env.ESS_FAULT_KILL_AFTER_SEND;
  if (legacy) {
    const probability = Number(legacy);
    if (!(probability >= 0 && probability <= 1)) {
      throw new FaultSettingsError({
        variable: "ESS_FAULT_KILL_AFTER_SEND",
        entry: legacy,
        reason: "expected a probability from 0 to 1",
      });
    }
    if (probability > 0) result.set("accepted-before-ledger", { probability });
  }
  for (const raw of (env.ESS_FAULT_POINTS ?? "").split(",")) {
    const entry = raw.trim();
    if (!entry) continue;
    const match = /^([a-z-]+)(?::([A-Za-z0-9_.-]+))?(?:=([0-9.]+)|@([0-9]+))?$/.exec(entry);
    const name = match?.[1];
    if (!match || !isFaultPoint(name)) {
      throw new FaultSettingsError({
        variable: "ESS_FAULT_POINTS",
        entry,
        reason: `unknown fault point; known: ${FAULT_POINTS.join(", ")}`,
      });
    }
    const scope = match[2] === undefined ? {} : { scope: match[2] };
    if (match[4] !== undefined) {
      const nth = Number(match[4]);
      if (!(nth >= 1))
        throw new FaultSettingsError({ variable: "ESS_FAULT_POINTS", entry, reason: "the hit number starts at 1" });
      result.set(name, { nth, ...scope });
    } else {
      const probability = match[3] === undefined ? 1 : Number(match[3]);
      if (!(probability >= 0 && probability <= 1)) {
        throw new FaultSettingsError({
          variable: "ESS_FAULT_POINTS",
          entry,
          reason: "expected a probability from 0 to 1",
        });
      }
      result.set(name, match[3] === undefined ? { nth: 1, ...scope } : { probability, ...scope });
    }
  }
  return result;
}

function isFaultPoint(name: string | undefined): name is FaultPoint {
  return (FAULT_POINTS as readonly string[]).includes(name ?? "");
}

function isArmed(env: NodeJS.ProcessEnv): boolean {
  const file = env.ESS_FAULT_ARMING_FILE;
  const key = env.ESS_FAULT_ARMING_KEY;
  if (!file || !key || key.length < MIN_KEY_LENGTH) return false;
  try {
    return readFileSync(file, "utf8") === key;
  } catch {
    return false;
  }
}
