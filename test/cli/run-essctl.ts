// Runs essctl with a clean environment and captures its output: in-process, or as the real child
// process (the test run's bundle of the source, so no build is needed) where the bin itself is under test.
import { spawn } from "node:child_process";
import { ESSCTL_NODE_ARGS } from "../support/essctl-bundle.js";
import { essctlInProcess } from "../support/essctl-in-process.js";

export interface EssctlRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

// Only a hung process is killed: a loaded machine can take many seconds to start one.
const TIMEOUT_MS = 90_000;

export interface EssctlOptions {
  readonly cwd: string;
  readonly env?: Readonly<Record<string, string>>;
}

/** Only what node needs: a test must not depend on the variables of the machine it runs on. */
function cleanEnv(options: EssctlOptions): Record<string, string> {
  return { PATH: process.env.PATH ?? "", NODE_OPTIONS: "", ...options.env };
}

/** essctl in this process (same commands and program as the bin), as if started in `cwd`. */
export function runEssctlInProcess(args: readonly string[], options: EssctlOptions): Promise<EssctlRun> {
  return essctlInProcess(args, { cwd: options.cwd, env: cleanEnv(options) });
}

/** The bin itself as a child process in `cwd`. */
export async function runEssctl(args: readonly string[], options: EssctlOptions): Promise<EssctlRun> {
  const child = spawn(process.execPath, [...ESSCTL_NODE_ARGS, ...args], {
    cwd: options.cwd,
    env: cleanEnv(options),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString("utf8");
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), TIMEOUT_MS);
  try {
    const code = await new Promise<number | null>((done, fail) => {
      child.once("error", fail);
      child.once("close", (exitCode) => done(exitCode));
    });
    return { code, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}
