// Runs the real essctl command line (the source, bundled for the test run) as a child process, or
// in-process where the bin itself is not what a test is about.
import { execFile } from "node:child_process";
import { ESSCTL_NODE_ARGS } from "./essctl-bundle.js";
import { essctlInProcess } from "./essctl-in-process.js";

export { ESSCTL_NODE_ARGS } from "./essctl-bundle.js";

export interface EssctlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function essctl(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<EssctlResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...ESSCTL_NODE_ARGS, ...args],
      { env: { ...process.env, ...env }, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** essctl in this process with this process's environment plus `env`, as `essctl()` runs it. */
export function essctlHere(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<EssctlResult> {
  return essctlInProcess(args, { env: { ...process.env, ...env } });
}
