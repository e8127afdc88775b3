#!/usr/bin/env node
// essctl: the operator command line of ESS; each command lives in its own file and is registered here.
import { backfillCommand } from "./backfill.js";
import { checkCommand } from "./check.js";
import type { EssctlCommand } from "./cli-options.js";
import { copybookCommand } from "./copybook.js";
import { demoCommand } from "./demo.js";
import { listCommand } from "./list.js";
import { migrateCommand } from "./migrate.js";
import { partnersCommand } from "./partners.js";
import { pauseCommand, resumeCommand } from "./pause.js";
import { runEssctl } from "./program.js";
import { publicationCommand } from "./publication.js";
import { replayCommand } from "./replay.js";
import { startCommand } from "./start.js";
import { statsCommand } from "./stats.js";
import { upgradePlanCommand } from "./upgrade-plan.js";

/** The commands, in the order `essctl --help` lists them. */
const COMMANDS: readonly EssctlCommand[] = [
  migrateCommand,
  checkCommand,
  publicationCommand,
  startCommand,
  listCommand,
  replayCommand,
  statsCommand,
  pauseCommand,
  resumeCommand,
  backfillCommand,
  upgradePlanCommand,
  copybookCommand,
  demoCommand,
  partnersCommand,
];

const stop = new AbortController();
// A closed terminal (SIGHUP) stops a command like Ctrl-C does: long-running commands clean up.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(signal, () => stop.abort(signal));
// A reader that went away (`essctl demo | head`): stop the command and clean up instead of dying
// on an unhandled EPIPE; what is still printed goes nowhere.
for (const stream of [process.stdout, process.stderr]) {
  let closed = false;
  stream.on("error", (error: NodeJS.ErrnoException) => {
    // Later writes to the closed stream fail too (ERR_STREAM_DESTROYED): nothing to add.
    if (!closed && error.code !== "EPIPE") throw error;
    closed = true;
    stop.abort("EPIPE");
  });
}

process.exitCode = await runEssctl(COMMANDS, process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  signal: stop.signal,
});
