#!/usr/bin/env node
// essctl: the operator command line of ESS; each command lives in its own file and is registered here.
import { checkCommand } from "./check.js";
import type { EssctlCommand } from "./cli-options.js";
import { listCommand } from "./list.js";
import { migrateCommand } from "./migrate.js";
import { pauseCommand, resumeCommand } from "./pause.js";
import { runEssctl } from "./program.js";
import { replayCommand } from "./replay.js";
import { startCommand } from "./start.js";
import { statsCommand } from "./stats.js";

/** The commands, in the order `essctl --help` lists them. */
const COMMANDS: readonly EssctlCommand[] = [
  migrateCommand,
  checkCommand,
  startCommand,
  listCommand,
  replayCommand,
  statsCommand,
  pauseCommand,
  resumeCommand,
];

const stop = new AbortController();
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => stop.abort(signal));

process.exitCode = await runEssctl(COMMANDS, process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  signal: stop.signal,
});
