// Builds the essctl command line from the registered commands and turns every outcome into an exit code.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Command, CommanderError } from "commander";
import { ConfigErrors, redactSecrets, redactUrl } from "../config/index.js";
import {
  type CommandContext,
  type CommandOutput,
  type EssctlCommand,
  EXIT,
  type ExitCode,
  UsageError,
} from "./cli-options.js";

export interface ProgramIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: NodeJS.ProcessEnv;
  readonly signal: AbortSignal;
}

const DEFAULT_CONFIG = "./ess.yaml";

/** Parses `argv` (without node and the script), runs the chosen command and returns its exit code. */
export async function runEssctl(
  commands: readonly EssctlCommand[],
  argv: readonly string[],
  io: ProgramIo,
): Promise<ExitCode> {
  const output = commandOutput(io);
  let exitCode: ExitCode = EXIT.ok;
  const program = new Command("essctl")
    .description("ESS (External System Sync): change data capture from PostgreSQL to legacy partners")
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(redactSecrets(text)),
    })
    .configureHelp({ showGlobalOptions: true })
    .version(packageVersion(), "--version", "print the essctl version")
    .option("--config <path>", "the ess.yaml to use", DEFAULT_CONFIG)
    .option("--json", "print one JSON document on stdout (commands that print data)");

  for (const definition of commands) {
    const command = program.command(definition.usage).description(definition.description);
    if (definition.json) command.option("--json", "print one JSON document on stdout");
    definition.configure?.(command);
    command.action(async (...received: unknown[]) => {
      const self = received.at(-1) as Command;
      const options = self.optsWithGlobals<Record<string, unknown>>();
      if (options.json === true && !definition.json) {
        throw new UsageError(`${self.name()} prints no data: --json does not apply`, "--json");
      }
      const context: CommandContext = {
        configPath: resolve(typeof options.config === "string" ? options.config : DEFAULT_CONFIG),
        json: options.json === true,
        env: io.env,
        output,
        signal: io.signal,
      };
      exitCode = await definition.run(context, self.args, options);
    });
  }

  try {
    await program.parseAsync([...argv], { from: "user" });
    return exitCode;
  } catch (error) {
    return reportFailure(error, output);
  }
}

/** src/cli/ and dist/cli/ are both two levels below package.json. */
function packageVersion(): string {
  const text = readFileSync(new URL("../../package.json", import.meta.url), "utf8");
  return (JSON.parse(text) as { version?: string }).version ?? "unknown";
}

function reportFailure(error: unknown, output: CommandOutput): ExitCode {
  if (error instanceof CommanderError) {
    // commander has already printed its message, or the help text (exit code 0 when asked for).
    return error.exitCode === 0 ? EXIT.ok : EXIT.invalid;
  }
  if (error instanceof ConfigErrors) {
    for (const problem of error.errors) output.warn(problem.message);
    return EXIT.invalid;
  }
  if (error instanceof UsageError) {
    output.warn(`error: ${error.message}`);
    return EXIT.invalid;
  }
  output.warn(`essctl: ${describeError(error)}`);
  return EXIT.failure;
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause === undefined ? "" : ` (caused by: ${describeError(error.cause)})`;
  return `${error.name}: ${error.message}${cause}`;
}

function commandOutput(io: ProgramIo): CommandOutput {
  return {
    print: (text) => io.stdout.write(`${redactSecrets(text)}\n`),
    printJson: (value) => io.stdout.write(`${redactSecrets(JSON.stringify(value, jsonReplacer, 2))}\n`),
    warn: (text) => io.stderr.write(`${redactUrl(text)}\n`),
  };
}

/** bigint (LSNs, ids) is printed as its decimal text. */
function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}
