// Success and failure counters carry the mapping, so one partner's feeds can be told apart (sync.success.vdot.bridge_grant).
import { describe, expect, it } from "vitest";
import { EssMetrics } from "../../src/ops/metrics.js";

describe("per-mapping delivery counters", () => {
  it("count successes and failures by connector and mapping, each target starting at 0", async () => {
    const metrics = new EssMetrics({
      connectors: ["vdot"],
      targets: [
        { connector: "vdot", mapping: "bridge_grant" },
        { connector: "vdot", mapping: "permit_status" },
      ],
      processMetrics: false,
    });
    const commit = new Date(Date.now() - 1000);
    metrics.recordItem("vdot", { id: "1", token: "t1", verdict: "sent" }, commit, "bridge_grant");
    metrics.recordItem("vdot", { id: "2", token: "t2", verdict: "sent" }, commit, "bridge_grant");
    metrics.recordItem(
      "vdot",
      { id: "3", token: "t3", verdict: "retry", error: "503", reason: "http_503", delayMs: 10 },
      commit,
      "permit_status",
    );
    const text = await metrics.render();
    expect(text).toContain('ess_success_total{connector="vdot",mapping="bridge_grant"} 2');
    expect(text).toContain('ess_success_total{connector="vdot",mapping="permit_status"} 0');
    expect(text).toContain('ess_failure_total{connector="vdot",reason="http_503",mapping="permit_status"} 1');
  });
});
