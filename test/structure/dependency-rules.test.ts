// The layering of src/ is enforced: `npm run lint` runs these rules, and a wrong import fails with the rule's name.
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { beforeAll, describe, expect, it } from "vitest";

const require = createRequire(import.meta.url);

interface DependencyRules {
  readonly forbidden: readonly { readonly name: string }[];
}

interface Cruise {
  readonly code: number;
  readonly output: string;
}

function cruise(path: string): Promise<Cruise> {
  return new Promise((resolve) => {
    execFile(
      "npx",
      ["depcruise", path, "--config", ".dependency-cruiser.cjs", "--output-type", "err"],
      { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, output: `${stdout}${stderr}` });
      },
    );
  });
}

describe("layering rules", () => {
  it("src/ follows every rule", async () => {
    const result = await cruise("src");
    expect(result.output).toContain("no dependency violations found");
    expect(result.code).toBe(0);
  }, 130_000);

  describe("a deliberately wrong import is reported with the rule's name", () => {
    // One fixture module per rule, each breaking that rule and no other.
    const expected: Readonly<Record<string, string>> = {
      "no-cycles": "delivery/batch-order.ts",
      "change-vocabulary-imports-nothing": "change/change-with-config.ts",
      "sql-helpers-import-nothing": "sql/quoting-with-config.ts",
      "mapping-is-pure": "mapping/record-with-ledger.ts",
      "config-knows-no-runtime": "config/setting-with-ledger.ts",
      "source-decodes-only": "source/decoder-with-mapping.ts",
      "adapters-know-no-ledger": "adapters/adapter-with-ledger.ts",
      "ledger-knows-no-delivery": "ledger/store-with-delivery.ts",
      "inspection-is-not-below": "capture/capture-with-inspection.ts",
      "ledger-owns-its-queries": "ops/query-outside-ledger.ts",
      "only-entry-points-run-the-engine": "ops/metrics-with-engine.ts",
      "nothing-imports-the-cli": "ops/reading-with-cli.ts",
    };
    let fixtures: Cruise;
    beforeAll(async () => {
      fixtures = await cruise("test/fixtures/layering/src");
    }, 130_000);

    it("every rule of .dependency-cruiser.cjs has a fixture that breaks it", () => {
      const rules = (require("../../.dependency-cruiser.cjs") as DependencyRules).forbidden.map((rule) => rule.name);
      expect([...rules].sort()).toEqual(Object.keys(expected).sort());
    });

    it.each(Object.entries(expected))("%s reports %s", (rule, file) => {
      expect(fixtures.code).not.toBe(0);
      const line = new RegExp(`error ${rule}: test/fixtures/layering/src/${file.replaceAll(".", "\\.")} `);
      expect(fixtures.output).toMatch(line);
    });

    it("reports nothing but the fixtures' violations", () => {
      const reported = [...fixtures.output.matchAll(/^ {2}error ([a-z-]+): /gm)].map((m) => m[1]);
      expect(reported.sort()).toEqual(Object.keys(expected).sort());
    });
  });
});
