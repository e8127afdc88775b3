// Setup of every test file: JSON log lines leave the test run's output for a log file (see
// quiet-logs.ts); a failing test prints the file's path and the lines logged while it ran.
import { beforeEach } from "vitest";
import { divertLogLines, testLogFile } from "./quiet-logs.js";

// Kept before the diversion: a failing test's log lines are shown through it.
const originalError = process.stderr.write.bind(process.stderr);
const diversion = divertLogLines([process.stdout, process.stderr], testLogFile());

beforeEach((context) => {
  const mark = diversion.mark();
  context.onTestFailed(() => {
    const lines = diversion.since(mark);
    if (lines.length === 0) return;
    const shown = lines.slice(-200).join("\n");
    originalError(`\n${lines.length} log lines of this test are in ${diversion.file}; the last ones:\n${shown}\n`);
  });
});
