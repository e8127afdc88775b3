// What every essctl command is given and must provide: the command contract, exit codes and output.
import type { Command } from "commander";

/** 0 success, 1 runtime failure, 2 invalid configuration or usage. */
export const EXIT = { ok: 0, failure: 1, invalid: 2 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Bad arguments found by a command itself (e.g. `--limit abc`): exit code 2, like commander's own. */
export class UsageError extends Error {
  override readonly name = "UsageError";
  constructor(
    message: string,
    readonly option?: string,
  ) {
    super(message);
  }
}

export interface CommandOutput {
  /** A line of text on stdout. */
  print(text: string): void;
  /** The command's one JSON document on stdout (`--json`). */
  printJson(value: unknown): void;
  /** A line on stderr, secrets redacted. */
  warn(text: string): void;
}

export interface CommandContext {
  /** Absolute path of ess.yaml (`--config`, default ./ess.yaml), given before or after the command. */
  readonly configPath: string;
  /** `--json` was given (only offered by commands that print data). */
  readonly json: boolean;
  readonly env: NodeJS.ProcessEnv;
  readonly output: CommandOutput;
  /** Aborted on SIGINT/SIGTERM, for long-running commands (start, backfill, demo). */
  readonly signal: AbortSignal;
}

/** One essctl command: a file under src/cli/ exporting one of these, and one line in essctl.ts. */
export interface EssctlCommand {
  /** Commander usage: "check", "pause <connector>", "replay [options]". */
  readonly usage: string;
  readonly description: string;
  /** The command prints data and accepts --json. */
  readonly json?: boolean;
  /** Declares the command's own arguments and options. */
  configure?(command: Command): void;
  /** Parses nothing itself: receives the arguments and options commander parsed, returns the exit code. */
  run(context: CommandContext, args: readonly string[], options: Readonly<Record<string, unknown>>): Promise<ExitCode>;
}
