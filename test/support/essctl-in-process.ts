// Runs essctl inside the test process: the bin's own command list and program, without the seconds
// a new node process with its TypeScript loader costs. Each run gets a fresh copy of the ESS modules,
// so process-wide state (the registry of secrets to redact) starts empty, as in a new process.
import { Writable } from "node:stream";
import { vi } from "vitest";

export interface InProcessRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface InProcessOptions {
  /** The working directory relative paths (--config, file names in messages) are read against. */
  readonly cwd?: string;
  /** The whole environment the command sees, as a child process would get it. */
  readonly env: NodeJS.ProcessEnv;
}

// One run at a time: a run may change the process's working directory.
let previous: Promise<unknown> = Promise.resolve();

export function essctlInProcess(args: readonly string[], options: InProcessOptions): Promise<InProcessRun> {
  const run = previous.then(() => runOnce(args, options));
  previous = run.catch(() => undefined);
  return run;
}

async function runOnce(args: readonly string[], options: InProcessOptions): Promise<InProcessRun> {
  vi.resetModules();
  const [{ COMMANDS }, { runEssctl }] = await Promise.all([
    import("../../src/cli/commands.js"),
    import("../../src/cli/program.js"),
  ]);
  const stdout = new TextSink();
  const stderr = new TextSink();
  const home = process.cwd();
  if (options.cwd !== undefined) process.chdir(options.cwd);
  try {
    const code = await runEssctl(COMMANDS, args, {
      stdout,
      stderr,
      env: options.env,
      signal: new AbortController().signal,
    });
    return { code, stdout: stdout.text, stderr: stderr.text };
  } finally {
    process.chdir(home);
  }
}

/** Collects what a command writes, synchronously, as text. */
class TextSink extends Writable {
  text = "";

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.text += typeof chunk === "string" ? chunk : chunk.toString("utf8");
    done();
  }
}
