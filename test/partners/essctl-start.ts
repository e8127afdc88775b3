// Runs the real `essctl start` as a child process, keeps its output, and stops or awaits it within bounds.
import { type ChildProcess, spawn } from "node:child_process";
import { ESSCTL_NODE_ARGS } from "../support/essctl.js";

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface EssctlProcess {
  readonly pid: number;
  /** Everything the process wrote so far (stdout then stderr are kept apart). */
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has ended, or rejects after `timeoutMs`. */
  exited(timeoutMs: number): Promise<Exit>;
  /** SIGTERM (graceful), then SIGKILL if it is still running after `graceMs`. */
  terminate(graceMs?: number): Promise<Exit>;
}

export function startEssctl(args: readonly string[], env: NodeJS.ProcessEnv = {}): EssctlProcess {
  const child: ChildProcess = spawn(process.execPath, [...ESSCTL_NODE_ARGS, ...args], {
    env: { ...process.env, ESS_LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (child.pid === undefined) throw new Error(`could not start essctl ${args.join(" ")}`);
  let out = "";
  let err = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const ended = new Promise<Exit>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  // A test that dies without its cleanup must not leave an ESS process running.
  const killOnExit = (): void => {
    child.kill("SIGKILL");
  };
  process.once("exit", killOnExit);
  void ended.then(() => process.removeListener("exit", killOnExit));

  const exited = async (timeoutMs: number): Promise<Exit> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`essctl ${args[0]} still running after ${timeoutMs} ms; stderr:\n${err}`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([ended, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
  return {
    pid: child.pid,
    stdout: () => out,
    stderr: () => err,
    exited,
    terminate: async (graceMs = 10_000) => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      try {
        return await exited(graceMs);
      } catch {
        child.kill("SIGKILL");
        return await exited(5_000);
      }
    },
  };
}
