// Orders the test files for the two workers: the longest files start first, so the run does not end
// with one long file going on alone while the other worker idles. Without a results cache (a fresh
// checkout) vitest orders by file size, which would start the 20-kill chaos run (a small file) last.
import { relative } from "node:path";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/** Longest first, as measured on a quiet 2-core machine; files not listed follow in vitest's order. */
const LONGEST_FIRST: readonly string[] = [
  "test/faults/chaos.test.ts",
  "test/faults/restarts-that-hurt.test.ts",
  "test/ha/capture-leadership.test.ts",
  "test/readme/first-hour.test.ts",
  "test/delivery/delivery-crash.test.ts",
  "test/capture/streamed-transaction-crash.test.ts",
  "test/faults/ftp-append-crash.test.ts",
  "test/faults/wal2json-crashes.test.ts",
  "test/cli/check-database.test.ts",
];

export class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const ordered = await super.sort(files);
    const rank = (file: TestSpecification): number => {
      const index = LONGEST_FIRST.indexOf(relative(file.project.config.root, file.moduleId).replaceAll("\\", "/"));
      return index < 0 ? LONGEST_FIRST.length : index;
    };
    // A stable sort: the listed files move to the front, the others keep vitest's order.
    return ordered.sort((a, b) => rank(a) - rank(b));
  }
}
