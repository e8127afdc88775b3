// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} and ${file:} are configuration syntax here, not template literals
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ConfigDir, writeConfigDir, yaml } from "../config/config-dir.js";
import { runEssctl } from "./run-essctl.js";

const VALID = {
  "site/ess.yaml": yaml(
    "database:",
    "  url: ${DATABASE_URL}",
    "replication:",
    "  slot: ess_main",
    "  publication: ess_pub",
  ),
  "site/connectors/gis.yaml": yaml(
    "name: gis",
    "adapter: rest",
    "rest:",
    "  url: http://127.0.0.1:9/api",
    '  headers: { X-API-Key: "${GIS_KEY}" }',
  ),
  "site/mappings/permits.yaml": yaml(
    "name: permits",
    "source: { table: public.permits }",
    "targets:",
    "  - connector: gis",
    "    format: json",
    "    fields: { id: id, status: status | lower }",
  ),
};
const ENV = { DATABASE_URL: "postgres://ess:Db-Secret-881@127.0.0.1:5432/hms", GIS_KEY: "gis-Key-5521" };

describe("essctl", () => {
  let dir: ConfigDir;
  beforeAll(async () => {
    dir = await writeConfigDir({
      ...VALID,
      "ess.yaml": VALID["site/ess.yaml"].replace("ess_pub", "Bad-Pub"),
      "bad-db/ess.yaml": yaml("database:", "  url: ${DATABASE_URL}", "replication: { slot: s, publication: p }"),
      "bad-db/connectors/.keep": "",
      "bad-db/mappings/.keep": "",
      "bad-key/ess.yaml": VALID["site/ess.yaml"],
      "bad-key/hostkey": "Not-A-Fingerprint-7731\n",
      "bad-key/mappings/.keep": "",
      "bad-key/connectors/city.yaml": yaml(
        "name: city",
        "adapter: sftp",
        "sftp:",
        "  host: 127.0.0.1",
        "  username: ess",
        "  password: ${CITY_PASS}",
        "  hostKey: ${file:../hostkey}",
        "  dir: /IN",
        '  file: "p_{batch}.txt"',
        "ordering: fifo",
      ),
    });
  });
  afterAll(async () => {
    await dir.remove();
  });

  it("check exits 0 and sums up a valid configuration", async () => {
    const run = await runEssctl(["check", "--offline", "--config", "site/ess.yaml"], { cwd: dir.dir, env: ENV });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("site/ess.yaml: configuration valid: 1 connector (gis), 1 mapping (permits)");
  });

  it("takes --config before or after the command, with the same result", async () => {
    const before = await runEssctl(["--config", "site/ess.yaml", "check", "--offline", "--json"], {
      cwd: dir.dir,
      env: ENV,
    });
    const after = await runEssctl(["check", "--offline", "--json", "--config", "site/ess.yaml"], {
      cwd: dir.dir,
      env: ENV,
    });
    expect(before.code).toBe(0);
    expect(after.code).toBe(0);
    expect(JSON.parse(after.stdout)).toEqual(JSON.parse(before.stdout));
  });

  it("reads ./ess.yaml when --config is not given", async () => {
    const run = await runEssctl(["check", "--offline"], { cwd: dir.path("site"), env: ENV });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("ess.yaml: configuration valid");
  });

  it("check --json prints one JSON document with the connectors and mappings", async () => {
    const run = await runEssctl(["check", "--offline", "--json", "--config", "site/ess.yaml"], {
      cwd: dir.dir,
      env: ENV,
    });
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({
      ok: true,
      config: dir.path("site/ess.yaml"),
      connectors: ["gis"],
      mappings: ["permits"],
      problems: [],
    });
  });

  it("check --json on a broken configuration lists every problem with file, line, column and path, and exits 2", async () => {
    const run = await runEssctl(["check", "--json"], { cwd: dir.dir, env: ENV });
    expect(run.code).toBe(2);
    const report = JSON.parse(run.stdout);
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      expect.objectContaining({
        phase: "configuration",
        file: dir.path("ess.yaml"),
        line: 5,
        column: 16,
        path: "replication.publication",
        found: '"Bad-Pub"',
      }),
    ]);
  });

  it("exits 2 when the configuration file does not exist", async () => {
    const run = await runEssctl(["check", "--config", "nowhere/ess.yaml"], { cwd: dir.dir, env: ENV });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("nowhere/ess.yaml:1:1: cannot read the configuration file: ENOENT");
  });

  it("never prints a secret: database passwords and ${file:} values are shown by reference", async () => {
    const badDb = await runEssctl(["check", "--config", "bad-db/ess.yaml"], {
      cwd: dir.dir,
      env: { DATABASE_URL: "mysql://ess:Db-Secret-881@127.0.0.1/hms" },
    });
    expect(badDb.code).toBe(2);
    expect(badDb.stderr).toContain("bad-db/ess.yaml:2:8: database.url:");
    expect(badDb.stderr).toContain("(from ${DATABASE_URL})");
    expect(badDb.stderr).not.toContain("Db-Secret-881");

    const badKey = await runEssctl(["check", "--json", "--config", "bad-key/ess.yaml"], {
      cwd: dir.dir,
      env: { ...ENV, CITY_PASS: "City-Pass-6610" },
    });
    expect(badKey.code).toBe(2);
    expect(badKey.stdout).toContain("sftp.hostKey");
    expect(badKey.stdout).toContain("${file:../hostkey}");
    for (const secret of ["Not-A-Fingerprint-7731", "City-Pass-6610", "Db-Secret-881"]) {
      expect(badKey.stdout).not.toContain(secret);
      expect(badKey.stderr).not.toContain(secret);
    }
  });

  it.each([
    [["bogus"], "unknown command 'bogus'"],
    [["check", "extra"], "too many arguments"],
    [["check", "--bogus"], "unknown option '--bogus'"],
    [["--config"], "argument missing"],
    [[], "Usage: essctl"],
  ])("exits 2 on a usage error: %j", async (args, message) => {
    const run = await runEssctl(args, { cwd: dir.dir, env: ENV });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
  });

  it("--help prints the commands and exits 0", async () => {
    const run = await runEssctl(["--help"], { cwd: dir.dir });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("check");
    expect(run.stdout).toContain("--config <path>");
  });

  it("check --help shows the global --config option too", async () => {
    const run = await runEssctl(["check", "--help"], { cwd: dir.dir });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("--json");
    expect(run.stdout).toContain("--config <path>");
  });

  it("the shipped examples (ess.yaml, connectors/, mappings/) pass check with only the SFTP host key pinned", async () => {
    const run = await runEssctl(["check", "--offline", "--json"], {
      cwd: resolve("."),
      env: { CITY_SFTP_HOST_KEY: "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8" },
    });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.connectors).toEqual([
      "city_hall_cobol",
      "county_scheduler",
      "court_calendar",
      "grants_cobol_csv",
      "payroll_csv",
      "treasury_batch",
      "vdot_gis",
    ]);
    expect(report.mappings).toEqual(["court_calendar", "grants", "permit_fees", "permit_status", "visit_reschedule"]);
  });
});
