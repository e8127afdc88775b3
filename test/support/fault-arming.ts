// Arms fault points for processes this test run starts: a random key, written to a file only
// this run creates, is what src/fault-points.ts requires before any point may fire.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

let arming: { file: string; key: string } | undefined;

function armingFile(): { file: string; key: string } {
  if (arming) return arming;
  const dir = mkdtempSync(join(tmpdir(), "ess-fault-arming-"));
  const file = join(dir, "key");
  const key = randomBytes(24).toString("hex");
  writeFileSync(file, key, { mode: 0o600 });
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  arming = { file, key };
  return arming;
}

/**
 * Environment variables that make a child process crash at the given points
 * (`name`, `name=probability` or `name@nth`; see src/fault-points.ts).
 */
export function faultEnv(points: string): Record<string, string> {
  const { file, key } = armingFile();
  return { ESS_FAULT_POINTS: points, ESS_FAULT_ARMING_FILE: file, ESS_FAULT_ARMING_KEY: key };
}

/** The marker a process writes to stderr when a fault point fires. */
export const FAULT_FIRED = /ess fault point ([a-z-]+) fired/;
