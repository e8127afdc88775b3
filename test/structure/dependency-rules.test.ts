// The layering of src/ is enforced: `npm run lint` runs these rules, and a wrong import fails with the rule's name.
import { execFile } from "node:child_process";
import { describe, expect, it } from "vitest";

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

  it("a mapping module importing the ledger is reported with the rule's name", async () => {
    const result = await cruise("test/fixtures/layering/src");
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(
      /error mapping-is-pure: test\/fixtures\/layering\/src\/mapping\/record-with-ledger\.ts/,
    );
  }, 130_000);
});
