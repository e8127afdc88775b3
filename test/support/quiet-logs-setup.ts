// Setup of every test file: JSON log lines leave the test run's output for a log file (see
// quiet-logs.ts); a failing test prints the file's path and the lines logged while it ran.
import { beforeEach } from "vitest";
import { divertLogLines, type LogDiversion, testLogFile } from "./quiet-logs.js";

// A worker runs many files in one module graph and this file again for each: the streams are
// wrapped once per process, and the unwrapped stderr kept from that first time.
const shared = globalThis as typeof globalThis & {
  essQuietLogs?: { readonly diversion: LogDiversion; readonly originalError: typeof process.stderr.write };
};
shared.essQuietLogs ??= {
  // Kept before the diversion: a failing test's log lines are shown through it.
  originalError: process.stderr.write.bind(process.stderr),
  diversion: divertLogLines([process.stdout, process.stderr], testLogFile()),
};
const { diversion, originalError } = shared.essQuietLogs;

beforeEach((context) => {
  const mark = diversion.mark();
  context.onTestFailed(() => {
    const lines = diversion.since(mark);
    if (lines.length === 0) return;
    const shown = lines.slice(-200).join("\n");
    originalError(`\n${lines.length} log lines of this test are in ${diversion.file}; the last ones:\n${shown}\n`);
  });
});
