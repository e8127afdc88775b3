// Runs the real essctl as a child process (through tsx, so no build is needed) and captures its output.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

export interface EssctlRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const ESSCTL = resolve("src/cli/essctl.ts");
// Resolved here because the child runs in a temporary directory, where "tsx" would not be found.
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
// Only a hung process is killed: on a loaded machine tsx alone can take half a minute to start.
const TIMEOUT_MS = 90_000;

export async function runEssctl(
  args: readonly string[],
  options: { cwd: string; env?: Readonly<Record<string, string>> },
): Promise<EssctlRun> {
  const child = spawn(process.execPath, ["--import", TSX_LOADER, ESSCTL, ...args], {
    cwd: options.cwd,
    // Only what node needs: a test must not depend on the variables of the machine it runs on.
    env: { PATH: process.env.PATH ?? "", NODE_OPTIONS: "", ...options.env },
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
