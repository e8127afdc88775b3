import { defineConfig } from "vitest/config";
import { LongestFirstSequencer } from "./test/support/longest-first-sequencer.js";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    // JSON log lines go to a log file per worker, shown when a test fails.
    setupFiles: ["test/support/quiet-logs-setup.ts"],
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests share one PostgreSQL; two cores on CI.
    maxWorkers: 2,
    sequence: { sequencer: LongestFirstSequencer },
  },
});
