// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} and ${file:} are configuration syntax here, not template literals
import { rm } from "node:fs/promises";
import { afterAll, describe, expect, it } from "vitest";
import { type ConfigDir, writeConfigDir, yaml } from "../config/config-dir.js";
import { runEssctl, runEssctlInProcess } from "./run-essctl.js";

// A small valid configuration; every case below breaks one thing in it.
const BASE: Readonly<Record<string, string>> = {
  "ess.yaml": yaml(
    "database:",
    "  url: postgres://ess@127.0.0.1:5432/hms",
    "replication:",
    "  slot: ess_main",
    "  publication: ess_pub",
  ),
  "connectors/drop.yaml": yaml("name: drop", "adapter: file", "file:", "  dir: ./out", '  file: "permits_{batch}.txt"'),
  "connectors/gis.yaml": yaml("name: gis", "adapter: rest", "rest:", "  url: http://127.0.0.1:9/api"),
  "mappings/permits.yaml": yaml(
    "name: permits",
    "source:",
    "  table: public.permits",
    "targets:",
    "  - connector: drop",
    "    format: fixed-width",
    "    fields:",
    "      ID: id | width:10",
    "      STATUS: status | width:8",
  ),
};

const PERMITS_HEAD = ["name: permits", "source:", "  table: public.permits", "targets:", "  - connector: drop"];

const FTP_HEAD = ["name: archive", "adapter: ftp", "ftp:", "  host: ftp.state.gov", "  username: ess"];
const FTP_DROP = ["  dir: /IN", '  file: "permits_{batch}.txt"'];

interface MalformedCase {
  readonly name: string;
  /** Files replacing or joining BASE. */
  readonly files: Readonly<Record<string, string>>;
  readonly env?: Readonly<Record<string, string>>;
  /** The file the error must name. */
  readonly file: string;
  /** The text the error must point at: its first occurrence gives the expected line and column. */
  readonly at: string;
  readonly path: string;
  /** Words the explanation must contain. */
  readonly says: string;
}

const CASES: readonly MalformedCase[] = [
  {
    name: "YAML syntax: a nested mapping on one line",
    files: { "mappings/permits.yaml": yaml("name: permits", "source:", "  table: x: y", "targets: []") },
    file: "mappings/permits.yaml",
    at: "x: y",
    path: "source.table",
    says: "YAML syntax",
  },
  {
    name: "YAML syntax: a key given twice",
    files: { "ess.yaml": `${BASE["ess.yaml"]}replication: # again\n  slot: other\n` },
    file: "ess.yaml",
    at: "replication: # again",
    path: "replication",
    says: "unique",
  },
  {
    name: "unknown key at the top of ess.yaml",
    files: { "ess.yaml": `${BASE["ess.yaml"]}htpp:\n  listen: 127.0.0.1:9464\n` },
    file: "ess.yaml",
    at: "htpp:",
    path: "htpp",
    says: 'did you mean "http"',
  },
  {
    name: "unknown key two levels deep",
    files: { "ess.yaml": `${BASE["ess.yaml"]}ledger:\n  retention: { delivered: 7d, adit: 400d }\n` },
    file: "ess.yaml",
    at: "adit",
    path: "ledger.retention.adit",
    says: 'unknown key "adit"',
  },
  {
    name: "unknown key in an adapter section",
    files: { "connectors/gis.yaml": `${BASE["connectors/gis.yaml"]}  methd: PUT\n` },
    file: "connectors/gis.yaml",
    at: "methd",
    path: "rest.methd",
    says: 'did you mean "method"',
  },
  {
    name: "unknown key in a long-form field",
    files: {
      "mappings/permits.yaml": yaml(
        ...PERMITS_HEAD,
        "    format: fixed-width",
        "    fields:",
        "      ID: { from: id, widht: 10 }",
      ),
    },
    file: "mappings/permits.yaml",
    at: "widht",
    path: "targets[0].fields.ID.widht",
    says: 'did you mean "width"',
  },
  {
    name: "wrong type: a word where a number belongs",
    files: { "connectors/drop.yaml": `${BASE["connectors/drop.yaml"]}batch: { maxRecords: many }\n` },
    file: "connectors/drop.yaml",
    at: "many",
    path: "batch.maxRecords",
    says: "expected an integer",
  },
  {
    name: "unknown formatter",
    files: {
      "mappings/permits.yaml": yaml(
        ...PERMITS_HEAD,
        "    format: fixed-width",
        "    fields:",
        "      ST: status | uper | width:8",
      ),
    },
    file: "mappings/permits.yaml",
    at: "ST:",
    path: "targets[0].fields.ST",
    says: 'unknown formatter "uper" (expected one of format, upper, lower, trim, width, lpad, rpad, number, pic, map, default, const, mask, hash, drop); did you mean "upper"?',
  },
  {
    name: "YAML syntax: a flow mapping never closed (the parser notices at the next key)",
    files: {
      "mappings/permits.yaml": yaml("name: permits", "source: { table: public.permits", "targets: []"),
    },
    file: "mappings/permits.yaml",
    at: "{ table",
    path: "source",
    says: "the { opened here is never closed with } (the parser noticed at line 3",
  },
  {
    name: "YAML syntax: a flow list never closed, two levels deep",
    files: {
      "mappings/permits.yaml": BASE["mappings/permits.yaml"]!.replace(
        "public.permits",
        "public.permits\n  ops: [insert, update",
      ),
    },
    file: "mappings/permits.yaml",
    at: "[insert",
    path: "source.ops",
    says: "the [ opened here is never closed with ]",
  },
  {
    name: "YAML syntax: a quoted string never closed",
    files: {
      "connectors/gis.yaml": yaml(
        "name: gis",
        "adapter: rest",
        "rest:",
        '  url: "http://127.0.0.1:9/api',
        "timeout: 5s",
      ),
    },
    file: "connectors/gis.yaml",
    at: '"http',
    path: "rest.url",
    says: "the quoted string opened here is never closed",
  },
  {
    name: "empty mapping file",
    files: { "mappings/empty.yaml": "" },
    file: "mappings/empty.yaml",
    at: "",
    path: "",
    says: 'the file is empty: every .yaml, .yml or .json file in the mappings folder is read as a mapping, so write one (at least "name:", "source:" and "targets:"',
  },
  {
    name: "connector file holding only comments",
    files: { "connectors/later.yaml": "# the county's second feed, not yet agreed\n" },
    file: "connectors/later.yaml",
    at: "#",
    path: "",
    says: "or delete the file",
  },
  {
    name: "width missing for a fixed-width field",
    files: {
      "mappings/permits.yaml": yaml(...PERMITS_HEAD, "    format: fixed-width", "    fields:", "      ST: status"),
    },
    file: "mappings/permits.yaml",
    at: "ST:",
    path: "targets[0].fields.ST",
    says: "width",
  },
  {
    name: "bad strftime pattern",
    files: {
      "mappings/permits.yaml": yaml(
        ...PERMITS_HEAD,
        "    format: fixed-width",
        "    fields:",
        "      TS: updated_at | format:%Q | width:8",
      ),
    },
    file: "mappings/permits.yaml",
    at: "TS:",
    path: "targets[0].fields.TS",
    says: "%Q",
  },
  {
    name: "unknown IANA time zone",
    files: { "mappings/permits.yaml": `${BASE["mappings/permits.yaml"]}timezone: America/New_Yrok\n` },
    file: "mappings/permits.yaml",
    at: "America/New_Yrok",
    path: "timezone",
    says: "IANA",
  },
  {
    name: "target naming an unknown connector",
    files: { "mappings/permits.yaml": BASE["mappings/permits.yaml"]!.replace("connector: drop", "connector: dorp") },
    file: "mappings/permits.yaml",
    at: "dorp",
    path: "targets[0].connector",
    says: 'did you mean "drop"',
  },
  {
    name: "two connectors with one name",
    files: { "connectors/gis.yaml": BASE["connectors/gis.yaml"]!.replace("name: gis", "name: drop") },
    file: "connectors/gis.yaml",
    at: "drop",
    path: "name",
    says: "duplicate connector name",
  },
  {
    name: "two mappings with one name",
    files: { "mappings/permits_again.yaml": BASE["mappings/permits.yaml"]! },
    file: "mappings/permits_again.yaml",
    at: "permits",
    path: "name",
    says: "duplicate mapping name",
  },
  {
    name: "unset ${VAR} without a default",
    files: { "connectors/gis.yaml": yaml("name: gis", "adapter: rest", "rest:", "  url: ${GIS_URL}") },
    file: "connectors/gis.yaml",
    at: "${GIS_URL}",
    path: "rest.url",
    says: "GIS_URL is not set",
  },
  {
    name: "PII column sent unmasked",
    files: {
      "mappings/permits.yaml": `${BASE["mappings/permits.yaml"]}      SSN: applicant_ssn | width:9\npii: [applicant_ssn]\n`,
    },
    file: "mappings/permits.yaml",
    at: "SSN:",
    path: "targets[0].fields.SSN",
    says: "applicant_ssn",
  },
  {
    name: "bad duration",
    files: { "connectors/drop.yaml": `${BASE["connectors/drop.yaml"]}retry: { initialDelay: 2 seconds }\n` },
    file: "connectors/drop.yaml",
    at: "2 seconds",
    path: "retry.initialDelay",
    says: "duration",
  },
  {
    name: "bad schedule window",
    files: {
      "connectors/drop.yaml": `${BASE["connectors/drop.yaml"]}schedule: "Mon-Fri 22:00-06:00 America/New_York"\n`,
    },
    file: "connectors/drop.yaml",
    at: '"Mon-Fri',
    path: "schedule",
    says: "ends before it starts",
  },
  {
    name: "unknown encoding",
    files: { "connectors/drop.yaml": `${BASE["connectors/drop.yaml"]}encoding: cp9999\n` },
    file: "connectors/drop.yaml",
    at: "cp9999",
    path: "encoding",
    says: "unknown encoding",
  },
  {
    name: "unknown adapter",
    files: { "connectors/gis.yaml": BASE["connectors/gis.yaml"]!.replace("adapter: rest", "adapter: gopher") },
    file: "connectors/gis.yaml",
    at: "gopher",
    path: "adapter",
    says: "unknown adapter",
  },
  {
    name: "missing required key",
    files: {
      "mappings/permits.yaml": yaml(
        "name: permits",
        "targets:",
        "  - connector: drop",
        "    format: json",
        "    fields: { id: id }",
      ),
    },
    file: "mappings/permits.yaml",
    at: "name: permits",
    path: "source",
    says: 'missing required key "source"',
  },
  {
    name: "port out of range",
    files: {
      "connectors/city.yaml": yaml(
        "name: city",
        "adapter: sftp",
        "sftp:",
        "  host: 127.0.0.1",
        "  port: 70000",
        "  username: ess",
        "  password: ${CITY_PASS:-pw}",
        '  hostKey: "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8"',
        "  dir: /IN",
        '  file: "p_{batch}.txt"',
      ),
    },
    file: "connectors/city.yaml",
    at: "70000",
    path: "sftp.port",
    says: "1 to 65535",
  },
  {
    name: "source with both table and topic",
    files: {
      "mappings/permits.yaml": BASE["mappings/permits.yaml"]!.replace(
        "public.permits",
        "public.permits\n  topic: permit.approved",
      ),
    },
    file: "mappings/permits.yaml",
    at: "permit.approved",
    path: "source.topic",
    says: "not both",
  },
  {
    name: "bad ordering",
    files: { "connectors/drop.yaml": `${BASE["connectors/drop.yaml"]}ordering: fifo\n` },
    file: "connectors/drop.yaml",
    at: "fifo",
    path: "ordering",
    says: "key, connector, none",
  },
  {
    name: "bad drop mode",
    files: { "connectors/drop.yaml": `${BASE["connectors/drop.yaml"]}  mode: rotate\n` },
    file: "connectors/drop.yaml",
    at: "rotate",
    path: "file.mode",
    says: "file-per-batch, append",
  },
  {
    name: "bad record terminator",
    files: {
      "mappings/permits.yaml": BASE["mappings/permits.yaml"]!.replace("    fields:", "    terminator: cr\n    fields:"),
    },
    file: "mappings/permits.yaml",
    at: "cr\n",
    path: "targets[0].terminator",
    says: "crlf, lf, none",
  },
  {
    name: "slot name PostgreSQL would have to quote",
    files: { "ess.yaml": BASE["ess.yaml"]!.replace("ess_main", "Ess-Main") },
    file: "ess.yaml",
    at: "Ess-Main",
    path: "replication.slot",
    says: "lower-case",
  },
  {
    name: "adapter section of another adapter",
    files: { "connectors/gis.yaml": `${BASE["connectors/gis.yaml"]}file:\n  dir: ./out\n` },
    file: "connectors/gis.yaml",
    at: "dir: ./out",
    path: "file",
    says: "does not apply to adapter rest",
  },
  {
    name: "http listener on an impossible port",
    files: { "ess.yaml": `${BASE["ess.yaml"]}http:\n  listen: 127.0.0.1:99999\n` },
    file: "ess.yaml",
    at: "127.0.0.1:99999",
    path: "http.listen",
    says: "out of range",
  },
  {
    name: "format the connector cannot carry",
    files: { "mappings/permits.yaml": BASE["mappings/permits.yaml"]!.replace("connector: drop", "connector: gis") },
    file: "mappings/permits.yaml",
    at: "fixed-width",
    path: "targets[0].format",
    says: "cannot be sent through connector gis",
  },
  {
    name: "connectors folder that does not exist",
    files: { "ess.yaml": `${BASE["ess.yaml"]}connectors: ./conectors\n` },
    file: "ess.yaml",
    at: "./conectors",
    path: "connectors",
    says: 'does not exist (ENOENT): create it, or set "connectors:" in ess.yaml',
  },
  {
    name: "file-per-batch name without {batch}",
    files: { "connectors/drop.yaml": BASE["connectors/drop.yaml"]!.replace("permits_{batch}.txt", "permits.txt") },
    file: "connectors/drop.yaml",
    at: '"permits.txt"',
    path: "file.file",
    says: "overwrite",
  },
  {
    name: "unknown operation",
    files: {
      "mappings/permits.yaml": BASE["mappings/permits.yaml"]!.replace(
        "public.permits",
        "public.permits\n  ops: [insert, upsert]",
      ),
    },
    file: "mappings/permits.yaml",
    at: "upsert",
    path: "source.ops[1]",
    says: "insert, update, delete, truncate",
  },
  {
    name: "ftp without a password",
    files: { "connectors/archive.yaml": yaml(...FTP_HEAD, ...FTP_DROP) },
    file: "connectors/archive.yaml",
    at: "ftp:",
    path: "ftp.password",
    says: 'missing required key "password"',
  },
  {
    name: "ftp certificate pin that is not a SHA-256 fingerprint",
    files: {
      "connectors/archive.yaml": yaml(...FTP_HEAD, "  password: pw", "  certFingerprint: SHA1:AB:CD", ...FTP_DROP),
    },
    file: "connectors/archive.yaml",
    at: "SHA1:AB:CD",
    path: "ftp.certFingerprint",
    says: "openssl x509 -noout -fingerprint -sha256",
  },
  {
    name: "ftp insecure with a certificate pin",
    files: {
      "connectors/archive.yaml": yaml(
        ...FTP_HEAD,
        "  password: pw",
        "  insecure: true",
        `  certFingerprint: ${"AB:".repeat(31)}AB`,
        ...FTP_DROP,
      ),
    },
    file: "connectors/archive.yaml",
    at: "AB:AB",
    path: "ftp.certFingerprint",
    says: "no effect with insecure: true",
  },
  {
    name: "rotate on an append file whose name has no date",
    files: {
      "connectors/drop.yaml": yaml(
        "name: drop",
        "adapter: file",
        "file:",
        "  dir: ./out",
        '  file: "permits.csv"',
        "  mode: append",
        "  rotate: 7d",
      ),
    },
    file: "connectors/drop.yaml",
    at: "7d",
    path: "file.rotate",
    says: "could not start a new append file",
  },
  {
    name: "rotate on an append file whose date cannot tell the periods apart",
    files: {
      "connectors/drop.yaml": yaml(
        "name: drop",
        "adapter: file",
        "file:",
        "  dir: ./out",
        '  file: "permits_{date:%Y%m%d}.csv"',
        "  mode: append",
        "  rotate: 6h",
      ),
    },
    file: "connectors/drop.yaml",
    at: "6h",
    path: "file.rotate",
    says: "two consecutive rotation periods alike",
  },
];

/** 1-based line and column of the first occurrence of `text`. */
function positionOf(source: string, text: string): { line: number; column: number } {
  const offset = source.indexOf(text);
  if (offset < 0) throw new Error(`the case's file does not contain ${JSON.stringify(text)}`);
  const before = source.slice(0, offset).split("\n");
  return { line: before.length, column: (before.at(-1)?.length ?? 0) + 1 };
}

describe("essctl check on malformed configurations", () => {
  const dirs: ConfigDir[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((dir) => dir.remove()));
  });

  it("accepts the base configuration every case starts from", async () => {
    const dir = await writeConfigDir(BASE);
    dirs.push(dir);
    const run = await runEssctl(["check", "--offline"], { cwd: dir.dir });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
  });

  it("accepts plain FTP only as written, with a warning naming its line", async () => {
    const plain = yaml(...FTP_HEAD, "  password: pw", "  insecure: true", ...FTP_DROP);
    const dir = await writeConfigDir({ ...BASE, "connectors/archive.yaml": plain });
    dirs.push(dir);
    const run = await runEssctlInProcess(["check", "--offline"], { cwd: dir.dir });
    expect(run.code, run.stderr).toBe(0);
    const line = positionOf(plain, "insecure: true").line;
    expect(run.stdout).toContain(
      `warning: connectors/archive.yaml:${line}: ftp.insecure: connector archive uses plain FTP`,
    );

    const json = await runEssctlInProcess(["check", "--offline", "--json"], { cwd: dir.dir });
    expect(JSON.parse(json.stdout).warnings).toHaveLength(1);
  });

  it.concurrent.each(CASES)(
    "exits 2 and names file, line and field: $name",
    async (testCase) => {
      const files = { ...BASE, ...testCase.files };
      const dir = await writeConfigDir(files);
      dirs.push(dir);
      const run = await runEssctlInProcess(["check"], { cwd: dir.dir, ...(testCase.env ? { env: testCase.env } : {}) });
      expect(run.code, run.stderr).toBe(2);
      const source = files[testCase.file];
      if (source === undefined) throw new Error(`no file ${testCase.file} in the case`);
      const { line, column } = positionOf(source, testCase.at);
      const lines = run.stderr.split("\n").filter((l) => l.startsWith(`${testCase.file}:`));
      const expectedStart = `${testCase.file}:${line}:${column}: ${testCase.path === "" ? "" : `${testCase.path}: `}`;
      const match = lines.find((l) => l.startsWith(expectedStart));
      expect(match, `no line starting with ${JSON.stringify(expectedStart)} in:\n${run.stderr}`).toBeDefined();
      expect(match).toContain(testCase.says);
    },
    120_000,
  );

  it.concurrent.each(["connectors", "mappings"])(
    "reports a missing %s folder once, without the follow-on errors of every file that needs it",
    async (folder) => {
      const dir = await writeConfigDir(BASE);
      dirs.push(dir);
      await rm(dir.path(folder), { recursive: true });
      const run = await runEssctlInProcess(["check", "--offline"], { cwd: dir.dir });
      expect(run.code).toBe(2);
      const problems = run.stderr.split("\n").filter((l) => /^\S+:\d+:\d+: /.test(l));
      expect(problems, run.stderr).toEqual([
        expect.stringMatching(new RegExp(`^ess\\.yaml:1:1: ${folder}: the ${folder} folder .* does not exist`)),
      ]);
      expect(run.stderr).toContain("1 problem found");
    },
    120_000,
  );

  it("reports the problems of every file in one run, ess.yaml first", async () => {
    const dir = await writeConfigDir({
      ...BASE,
      "ess.yaml": BASE["ess.yaml"]!.replace("ess_pub", "Pub!"),
      "connectors/drop.yaml": `${BASE["connectors/drop.yaml"]}ordering: fifo\n`,
      "connectors/gis.yaml": BASE["connectors/gis.yaml"]!.replace("adapter: rest", "adapter: gopher"),
      "mappings/permits.yaml": `${BASE["mappings/permits.yaml"]}timezone: Mars/Olympus\n`,
    });
    dirs.push(dir);
    const run = await runEssctl(["check", "--offline"], { cwd: dir.dir });
    expect(run.code).toBe(2);
    const problems = run.stderr.split("\n").filter((l) => /^\S+\.yaml:\d+:\d+: /.test(l));
    expect(problems.map((l) => l.split(":")[0])).toEqual([
      "ess.yaml",
      "connectors/drop.yaml",
      "connectors/gis.yaml",
      "mappings/permits.yaml",
    ]);
    expect(run.stderr).toContain("4 problems found");
  });
});
