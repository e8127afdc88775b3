import { defineConfig } from "vitest/config";
import { LongestFirstSequencer } from "./test/support/longest-first-sequencer.js";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    // JSON log lines go to a log file per worker, shown when a test fails.
    setupFiles: ["test/support/quiet-logs-setup.ts"],
    pool: "forks",
    // One module graph per worker, not per file: importing the source again for each of 140
    // files cost about two minutes of the run. Tests start from state of their own (a database,
    // a site, an engine) and do not rely on fresh module state.
    isolate: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests share one PostgreSQL; two cores on CI.
    maxWorkers: 2,
    sequence: { sequencer: LongestFirstSequencer },
  },
});
