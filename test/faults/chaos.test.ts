import { describe, expect, it } from "vitest";
import { runChaos, summaryLine } from "./chaos-run.js";

describe("chaos: random kills, PostgreSQL immediate restarts and partner outages under write load", () => {
  it("20 kills: every committed change reaches every partner, none twice, and the invariants hold throughout", async () => {
    const summary = await runChaos({ kills: 20, seconds: 20 });
    process.stdout.write(`chaos: ${summaryLine(summary)}\n`);
    expect(summary.violations).toEqual([]);
    expect(summary.problems).toEqual([]);
    expect({ lost: summary.lost, duplicated: summary.duplicated }).toEqual({ lost: 0, duplicated: 0 });
    expect(summary.kills).toBe(20);
    expect(summary.restarts).toBeGreaterThanOrEqual(1);
    expect(summary.outages).toBeGreaterThanOrEqual(1);
    expect(summary.changes).toBeGreaterThan(200);
  }, 420_000);
});
