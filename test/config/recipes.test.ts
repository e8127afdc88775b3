// The partners' one-line recipes, written as they wrote them, load as the canonical configuration and
// `essctl check --explain` prints what each one stands for.
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { type CanonicalFile, ConfigErrors, type ConnectorConfig, loadConfig } from "../../src/config/index.js";
import { runEssctl } from "../cli/run-essctl.js";
import { writeConfigDir, yaml } from "./config-dir.js";

const RECIPES = fileURLToPath(new URL("../fixtures/config/recipes/ess.yaml", import.meta.url));

function connector(connectors: readonly ConnectorConfig[], name: string): ConnectorConfig {
  const found = connectors.find((c) => c.name === name);
  if (!found) throw new Error(`connector ${name} is missing`);
  return found;
}

describe("the seeds' one-line recipes", () => {
  it("load verbatim into the canonical configuration", async () => {
    const config = await loadConfig(RECIPES, { env: {} });
    expect(config.timezone).toBe("America/New_York");
    const permits = connector(config.connectors, "permits_csv");
    expect(permits.adapter).toBe("file");
    expect(permits.format).toBe("csv");
    expect(permits.adapter === "file" && permits.file).toMatchObject({
      dir: "/IN",
      file: "permits_{date:%Y%m%d}.csv",
      mode: "append",
      dateTimezone: "America/New_York",
    });
    const court = connector(config.connectors, "court_docket");
    expect(court.adapter === "soap" && court.soap).toMatchObject({
      wsdl: "https://court.gov/docket.wsdl",
      operation: "UpdateCase",
    });
    expect(connector(config.connectors, "city_window").schedule).toMatchObject({
      kind: "window",
      text: "Mon-Fri 06:00-22:00 America/New_York",
      timezone: "America/New_York",
    });
    expect(connector(config.connectors, "gis_every").schedule).toEqual({
      kind: "every",
      text: "every 60s",
      everyMs: 60_000,
    });
    expect(connector(config.connectors, "morning_drop").schedule).toMatchObject({
      kind: "clock",
      crons: ["0 9 * * *"],
      timezone: "America/New_York",
    });
    expect(connector(config.connectors, "grants_redacted").dropFields).toEqual(["ssn", "dob"]);
    const payroll = connector(config.connectors, "payroll_rest");
    expect(payroll.format).toBe("csv");
    expect(payroll.adapter === "rest" && payroll.rest.url).toBe("https://payroll.example.gov/api/import");
    const rotated = connector(config.connectors, "rotated_drop");
    expect(rotated.adapter === "file" && rotated.file.rotateMs).toBe(7 * 86_400_000);
    const grants = config.mappings.find((m) => m.name === "grants");
    expect(grants?.targets[0]?.fields.map((f) => [f.name, f.spec])).toEqual([
      ["grant_id", "id"],
      ["ssn", "ssn | drop"],
      ["dob", "dob | drop"],
      ["amount", "amount"],
    ]);
    const fees = config.mappings.find((m) => m.name === "permit_fees");
    expect(fees?.targets).toHaveLength(1);
    expect(fees?.targets[0]).toMatchObject({ connector: "permits_csv", format: "csv" });
  });

  it("essctl check --explain prints each alias at its line and the canonical form of its file", async () => {
    const run = await runEssctl(["check", "--offline", "--explain", "--json", "--config", RECIPES], {
      cwd: process.cwd(),
    });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as { canonical: CanonicalFile[]; timezone: string };
    const byFile = new Map(report.canonical.map((f) => [f.file.replace(/.*\/recipes\//, ""), f]));
    const aliases = (file: string) =>
      (byFile.get(file)?.aliases ?? []).map((a) => `${a.line}: ${a.written} => ${a.canonical}`);
    expect(aliases("connectors/permits_csv.yaml")).toEqual([
      "2: type: file => adapter: file",
      "3: mode: append_csv => file.mode: append_csv",
      "4: file: /IN/permits_{{date}}.csv => file.file: /IN/permits_{{date}}.csv",
      "3: mode: append_csv => file.mode: append, format: csv",
      "4: file: /IN/permits_{{date}}.csv => file.dir: /IN, file.file: permits_{date:%Y%m%d}.csv, timezone: America/New_York (ess.yaml timezone; {date} is in this zone)",
    ]);
    expect(byFile.get("connectors/permits_csv.yaml")?.text).toBe(
      [
        "name: permits_csv",
        "adapter: file",
        "file:",
        "  dir: /IN",
        "  mode: append",
        "  file: permits_{date:%Y%m%d}.csv",
        "format: csv",
        "timezone: America/New_York",
        "",
      ].join("\n"),
    );
    expect(byFile.get("connectors/court_docket.yaml")?.text).toBe(
      [
        "name: court_docket",
        "adapter: soap",
        "soap:",
        "  wsdl: https://court.gov/docket.wsdl",
        "  operation: UpdateCase",
        "",
      ].join("\n"),
    );
    expect(aliases("connectors/city_window.yaml")).toEqual([
      '4: schedule: Mon-Fri 06:00-22:00 => schedule: "Mon-Fri 06:00-22:00 America/New_York" (zone from ess.yaml timezone)',
    ]);
    expect(aliases("connectors/gis_every.yaml")).toEqual(["4: schedule: every 60s => schedule: { every: 60s }"]);
    expect(aliases("connectors/morning_drop.yaml")).toEqual([
      '4: schedule: every morning at 9 a.m. => schedule: { at: "09:00", timezone: America/New_York }',
    ]);
    expect(aliases("connectors/grants_redacted.yaml")).toEqual([
      '4: transform: drop_fields ["ssn","dob"] => dropFields: [ssn, dob]',
    ]);
    expect(aliases("connectors/payroll_rest.yaml")).toEqual([
      "2: type: rest => adapter: rest",
      "3: url: https://payroll.example.gov/api/import => rest.url: https://payroll.example.gov/api/import",
    ]);
    expect(aliases("connectors/rotated_drop.yaml")).toEqual(["4: rotate: 7d => file.rotate: 7d"]);
    expect(aliases("mappings/permit_fees.json")).toEqual([
      "4: target: permits_csv (with fields at the top) => targets: [ { connector, fields } ]",
      "4: connector: permits_csv (no format) => format: csv (the connector's format)",
    ]);
    expect(report.timezone).toBe("America/New_York");
  });

  it("the text report shows the alias lines and the canonical file", async () => {
    const run = await runEssctl(["check", "--offline", "--explain", "--config", RECIPES], { cwd: process.cwd() });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/court_docket\.yaml:2: type: soap {2}=> {2}adapter: soap/);
    expect(run.stdout).toContain("  soap:\n    wsdl: https://court.gov/docket.wsdl\n    operation: UpdateCase");
    expect(run.stdout).toContain("time zone of schedules and {{date}} written without one: America/New_York");
  });
});

describe("mappings written as JSON", () => {
  it("read with the same schema and report file:line:field, a width-less fixed-width field with its fix", async () => {
    const dir = await writeConfigDir({
      "ess.yaml": yaml(
        "database: { url: postgres://ess@127.0.0.1:5432/hms }",
        "replication: { slot: ess_main, publication: ess_pub }",
      ),
      "connectors/cobol.yaml": yaml("name: cobol", "adapter: file", "file: { dir: /IN, file: 'c_{batch}.txt' }"),
      "mappings/permits.json": [
        "{",
        '  "name": "permits",',
        '  "source": { "table": "public.permits" },',
        '  "target": "cobol",',
        '  "format": "fixed-width",',
        '  "fields": {',
        '    "PERMIT_ID": "id | width:10",',
        '    "STATUS": "status"',
        "  }",
        "}",
      ].join("\n"),
    });
    try {
      const error = await loadConfig(dir.path("ess.yaml"), { env: {} }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ConfigErrors);
      const messages = (error as ConfigErrors).errors.map(
        (e) => `${e.file.replace(dir.dir, "")}:${e.line}: ${e.message}`,
      );
      expect(messages).toHaveLength(1);
      expect(messages[0]).toMatch(/^\/mappings\/permits\.json:8: .*targets\[0\]\.fields\.STATUS: .*needs a width/);
      expect(messages[0]).toContain("fix: STATUS: status | width:10");
    } finally {
      await dir.remove();
    }
  });
});
