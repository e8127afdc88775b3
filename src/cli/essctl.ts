#!/usr/bin/env node
// essctl: the operator command line of ESS; each command lives in its own file, registered in commands.ts.
import { COMMANDS } from "./commands.js";
import { runEssctl } from "./program.js";

/** How long a finished command waits for what it wrote to be flushed before it exits regardless. */
const EXIT_GRACE_MS = 5_000;

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
// The command is over: a socket or timer some part left open (a client of a server that went
// away) must not keep the process alive. The timer does not hold the loop itself, so a process
// with nothing left open exits at once, with its output flushed as usual.
setTimeout(() => process.exit(), EXIT_GRACE_MS).unref();
