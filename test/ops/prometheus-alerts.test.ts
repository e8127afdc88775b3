// The shipped alert rules and dashboard: valid for Prometheus, tested alert by alert with
// promtool, and built only from metrics ESS exposes.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { EssMetrics } from "../../src/ops/metrics.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const RULES = "docs/prometheus-alerts.yml";
const RULE_TESTS = "test/ops/prometheus-alerts.promtest.yml";
const DASHBOARD = "docs/grafana-dashboard.json";

interface PromtoolResult {
  readonly code: number;
  readonly output: string;
}

function promtool(args: readonly string[]): Promise<PromtoolResult> {
  return new Promise((resolve, reject) => {
    execFile("promtool", [...args], { cwd: ROOT, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error && (error as NodeJS.ErrnoException).code === "ENOENT") {
        reject(new Error("promtool is not installed: apt-get install prometheus (CI's .ci/run installs it)"));
        return;
      }
      resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

interface RuleFile {
  groups: { name: string; rules: { alert?: string; expr: string }[] }[];
}
interface RuleTests {
  tests: { name: string; alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
}

const rules = parse(readFileSync(`${ROOT}${RULES}`, "utf8")) as RuleFile;
const alerts = rules.groups.flatMap((g) => g.rules).filter((r) => r.alert !== undefined);

/** Metric names ESS registers (process metrics aside). */
function essMetricNames(): Set<string> {
  const metrics = new EssMetrics({ connectors: ["c"], processMetrics: false });
  return new Set(metrics.registry.getMetricsAsArray().map((m) => m.name));
}

/** ess_* names in a PromQL expression (histograms by their series suffixes). */
function namesIn(expr: string): string[] {
  return [...expr.matchAll(/\bess_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, ""));
}

describe("docs/prometheus-alerts.yml", () => {
  it("passes promtool check rules", async () => {
    const result = await promtool(["check", "rules", RULES]);
    expect(result.output).toContain(`SUCCESS: ${alerts.length} rules found`);
    expect(result.code).toBe(0);
  });

  it("covers the slot, the stream, the connectors, the dead letters, the backlog and retained WAL", () => {
    const uses = (metric: string) => alerts.some((a) => namesIn(a.expr).includes(metric));
    for (const metric of [
      "ess_replication_stalled",
      "ess_replication_connected",
      "ess_connector_up",
      "ess_deliveries",
      "ess_backlog_age_seconds",
      "ess_slot_retained_wal_bytes",
    ]) {
      expect(uses(metric), metric).toBe(true);
    }
  });

  it("passes promtool test rules, with a firing and a silent case for every alert", async () => {
    const cases = parse(readFileSync(`${ROOT}${RULE_TESTS}`, "utf8")) as RuleTests;
    const checks = cases.tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const alert of alerts) {
      const mine = checks.filter((c) => c.alertname === alert.alert);
      expect(
        mine.some((c) => c.exp_alerts.length > 0),
        `${alert.alert} has a case where it fires`,
      ).toBe(true);
      expect(
        mine.some((c) => c.exp_alerts.length === 0),
        `${alert.alert} has a case where it stays silent`,
      ).toBe(true);
    }
    const result = await promtool(["test", "rules", RULE_TESTS]);
    expect(result.output).toContain("SUCCESS");
    expect(result.code).toBe(0);
  });

  it("names only metrics ESS exposes", () => {
    const known = essMetricNames();
    for (const alert of alerts) for (const name of namesIn(alert.expr)) expect(known, alert.alert).toContain(name);
  });
});

describe("docs/grafana-dashboard.json", () => {
  const dashboard = JSON.parse(readFileSync(`${ROOT}${DASHBOARD}`, "utf8")) as {
    panels: { title: string; targets?: { expr: string }[] }[];
  };
  const used = new Set(dashboard.panels.flatMap((p) => (p.targets ?? []).flatMap((t) => namesIn(t.expr))));

  it("has a panel for every ESS metric, and no panel for a metric ESS does not expose", () => {
    const known = essMetricNames();
    for (const name of known) expect(used, `a panel for ${name}`).toContain(name);
    for (const name of used) expect(known, `${name} is exposed`).toContain(name);
  });
});
