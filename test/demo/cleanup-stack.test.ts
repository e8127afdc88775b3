// The demo's clean-up undoes every step newest first, whatever one of them does.
import { describe, expect, it } from "vitest";
import { CleanupStack, CleanupStepTimeoutError } from "../../src/demo/cleanup-stack.js";

describe("the demo's clean-up", () => {
  it("runs every step newest first, reports the one that failed and the one that never finished, and goes on", async () => {
    const done: string[] = [];
    const stack = new CleanupStack(200);
    stack.push("stopping ESS", async () => {
      done.push("stopping ESS");
    });
    stack.push("closing the ledger connection", () => new Promise<void>(() => undefined));
    stack.push("stopping the SOAP partner", async () => {
      throw new Error("already stopped");
    });
    stack.push("removing the directory", async () => {
      done.push("removing the directory");
    });
    const started = Date.now();
    const failures = await stack.run();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(done).toEqual(["removing the directory", "stopping ESS"]);
    expect(failures.map((f) => f.what)).toEqual(["stopping the SOAP partner", "closing the ledger connection"]);
    expect(failures[1]?.error).toBeInstanceOf(CleanupStepTimeoutError);
    expect(String(failures[1]?.error)).toContain("did not finish within 0.2 s");
    expect(await stack.run()).toEqual([]);
  });
});
