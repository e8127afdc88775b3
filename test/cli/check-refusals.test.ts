// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} is configuration syntax here, not template literals
// What `essctl check` refuses before start would fail on it: host key pins, SOAP operations, credentials in URLs.
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runChecks } from "../../src/cli/check-report.js";
import { wsdlPhase } from "../../src/cli/check-wsdl.js";
import { type ConfigDir, writeConfigDir, yaml } from "../config/config-dir.js";
import { startHttpServer, type TestHttpServer } from "../support/http-server.js";
import { runEssctl, runEssctlInProcess } from "./run-essctl.js";

const WSDL = resolve("test/fixtures/config/spec/connectors/county_scheduler.wsdl");
const FINGERPRINT = "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8";
const ESS = yaml("database:", "  url: ${DATABASE_URL}", "replication: { slot: ess_main, publication: ess_pub }");
const ENV = { DATABASE_URL: "postgres://ess:Db-Secret-881@127.0.0.1:5432/hms" };

function sftp(hostKey: string): string {
  return yaml(
    "name: city",
    "adapter: sftp",
    "sftp:",
    "  host: 127.0.0.1",
    "  username: ess",
    "  password: ${CITY_PASS}",
    `  hostKey: "${hostKey}"`,
    "  dir: /IN",
    '  file: "p_{batch}.txt"',
  );
}

function soap(wsdl: string, operation: string): string {
  return yaml("name: county", "adapter: soap", "soap:", `  wsdl: ${wsdl}`, `  operation: ${operation}`);
}

describe("essctl check refuses what start would fail on", () => {
  let dir: ConfigDir;
  let wsdlServer: TestHttpServer;
  beforeAll(async () => {
    const wsdlText = await readFile(WSDL, "utf8");
    wsdlServer = await startHttpServer(() => ({
      status: 200,
      headers: { "content-type": "text/xml" },
      body: wsdlText,
    }));
    dir = await writeConfigDir({
      "placeholder/ess.yaml": ESS,
      "placeholder/mappings/.keep": "",
      "placeholder/connectors/city.yaml": sftp("${CITY_SFTP_HOST_KEY:-SHA256:...}"),
      "short/ess.yaml": ESS,
      "short/mappings/.keep": "",
      "short/connectors/city.yaml": sftp("SHA256:abc"),
      "pinned/ess.yaml": ESS,
      "pinned/mappings/.keep": "",
      "pinned/connectors/city.yaml": sftp(FINGERPRINT),
      "typo/ess.yaml": ESS,
      "typo/mappings/.keep": "",
      "typo/connectors/county.yaml": soap(WSDL, "Rescheduel"),
      "right/ess.yaml": ESS,
      "right/mappings/.keep": "",
      "right/connectors/county.yaml": soap(WSDL, "Reschedule"),
      "remote/ess.yaml": ESS,
      "remote/mappings/.keep": "",
      "remote/connectors/county.yaml": soap(`${wsdlServer.url}/county?wsdl`, "Cancel"),
    });
  });
  afterAll(async () => {
    await dir?.remove();
    await wsdlServer?.stop();
  });

  it("item 13: the shipped placeholder SHA256:... is refused at sftp.hostKey with how to get the fingerprint", async () => {
    const run = await runEssctl(["check", "--offline", "--config", "placeholder/ess.yaml"], {
      cwd: dir.dir,
      env: { ...ENV, CITY_PASS: "City-Pass-6610" },
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("placeholder/connectors/city.yaml:7:");
    expect(run.stderr).toContain("sftp.hostKey");
    expect(run.stderr).toContain("ssh-keygen -lf");
    expect(run.stderr).not.toContain("City-Pass-6610");
  });

  it("item 13: a fingerprint of the wrong length is refused; a real one passes", async () => {
    const short = await runEssctlInProcess(["check", "--offline", "--config", "short/ess.yaml"], {
      cwd: dir.dir,
      env: { ...ENV, CITY_PASS: "x" },
    });
    expect(short.code).toBe(2);
    expect(short.stderr).toContain("sftp.hostKey");
    const pinned = await runEssctlInProcess(["check", "--offline", "--config", "pinned/ess.yaml"], {
      cwd: dir.dir,
      env: { ...ENV, CITY_PASS: "x" },
    });
    expect(pinned.stderr).toBe("");
    expect(pinned.code).toBe(0);
  });

  it("item 13: a SOAP operation the local WSDL does not define is refused, offline too, naming the ones it does", async () => {
    const run = await runEssctlInProcess(["check", "--offline", "--json", "--config", "typo/ess.yaml"], {
      cwd: dir.dir,
      env: ENV,
    });
    expect(run.code).toBe(2);
    const report = JSON.parse(run.stdout);
    expect(report.problems).toEqual([
      expect.objectContaining({
        phase: "wsdl",
        path: "soap.operation",
        line: 5,
        found: '"Rescheduel"',
        fix: expect.stringContaining("Reschedule"),
      }),
    ]);
    const right = await runEssctlInProcess(["check", "--offline", "--config", "right/ess.yaml"], {
      cwd: dir.dir,
      env: ENV,
    });
    expect(right.stderr).toBe("");
    expect(right.code).toBe(0);
    expect(right.stdout).toContain("(checked: configuration, wsdl)");
  });

  it("item 13: a WSDL URL is fetched when check may use the network; --offline says the operation is not verified", async () => {
    const online = await runChecks(dir.path("remote/ess.yaml"), {
      env: ENV,
      phases: [wsdlPhase({ offline: false })],
      signal: new AbortController().signal,
    });
    expect(online.ok).toBe(false);
    expect(online.problems).toEqual([expect.objectContaining({ phase: "wsdl", path: "soap.operation" })]);
    expect(online.problems[0]?.message).toContain('defines no operation "Cancel"');
    expect(wsdlServer.requests.length).toBeGreaterThan(0);

    const seen = wsdlServer.requests.length;
    const offline = await runEssctlInProcess(["check", "--offline", "--config", "remote/ess.yaml"], {
      cwd: dir.dir,
      env: ENV,
    });
    expect(offline.code).toBe(0);
    expect(offline.stdout).toContain('note: connector county: soap.operation "Cancel" not verified');
    expect(wsdlServer.requests.length).toBe(seen);
  });
});

describe("essctl check refuses credentials written into URLs, and never prints them", () => {
  const DB_PASSWORD = "Pa/ss#Word-4471";
  const REST_PASSWORD = "Rest-Pass-3390";
  const API_KEY = "Api-Key-Value-2286";
  let dir: ConfigDir;
  beforeAll(async () => {
    const rest = (url: string) => yaml("name: gis", "adapter: rest", "rest:", `  url: "${url}"`);
    dir = await writeConfigDir({
      "db/ess.yaml": ESS,
      "db/mappings/.keep": "",
      "literal/ess.yaml": yaml(
        "database:",
        `  url: "postgres://ess:${DB_PASSWORD}@127.0.0.1:5432/hms"`,
        "replication: { slot: ess_main, publication: ess_pub }",
      ),
      "literal/mappings/.keep": "",
      "userinfo/ess.yaml": ESS,
      "userinfo/mappings/.keep": "",
      "userinfo/connectors/gis.yaml": rest(`https://ess:${REST_PASSWORD}@gis.example/api`),
      "apikey/ess.yaml": ESS,
      "apikey/mappings/.keep": "",
      "apikey/connectors/gis.yaml": rest(`https://gis.example/api?format=json&api_key=${API_KEY}`),
    });
  });
  afterAll(async () => {
    await dir?.remove();
  });

  it.each([
    ["from ${DATABASE_URL}", "db", { DATABASE_URL: `postgres://ess:${DB_PASSWORD}@127.0.0.1:5432/hms` }],
    ["written in ess.yaml", "literal", {}],
  ])(
    "item 10: a database.url password with / or # (%s) is refused at database.url, never printed",
    async (_how, site, env) => {
      for (const json of [false, true]) {
        const run = await runEssctlInProcess(
          ["check", "--offline", ...(json ? ["--json"] : []), "--config", `${site}/ess.yaml`],
          {
            cwd: dir.dir,
            env,
          },
        );
        expect(run.code).toBe(2);
        const output = run.stdout + run.stderr;
        expect(output).toContain("database.url");
        expect(output).toContain("PGPASSWORD");
        for (const piece of [DB_PASSWORD, "Pa/ss", "ss#Word", "Word-4471", encodeURIComponent(DB_PASSWORD)]) {
          expect(output).not.toContain(piece);
        }
      }
    },
  );

  it.each([
    ["a user name and password", "userinfo", REST_PASSWORD],
    ["the query parameter api_key", "apikey", API_KEY],
  ])(
    "item 10: a rest.url carrying %s is refused, pointing to rest.headers, never printed",
    async (what, site, secret) => {
      for (const json of [false, true]) {
        const run = await runEssctlInProcess(
          ["check", "--offline", ...(json ? ["--json"] : []), "--config", `${site}/ess.yaml`],
          {
            cwd: dir.dir,
            env: ENV,
          },
        );
        expect(run.code).toBe(2);
        const output = run.stdout + run.stderr;
        expect(output).toContain("rest.url");
        expect(output).toContain(what);
        expect(output).toContain("rest.headers");
        expect(output).not.toContain(secret);
        if (json) expect(JSON.parse(run.stdout).problems[0].found).toContain("gis.example/api");
      }
    },
  );
});

describe("essctl check and the hash formatter's key", () => {
  const HASH_KEY = "Hash-Key-Secret-0042-abcdef";
  let dir: ConfigDir;
  beforeAll(async () => {
    const gis = yaml("name: gis", "adapter: rest", "rest:", "  url: http://127.0.0.1:9/api");
    const people = yaml(
      "name: people",
      "source: { table: public.people }",
      "pii: [ssn]",
      "targets:",
      "  - connector: gis",
      "    format: json",
      "    fields: { id: id, ssn: ssn | hash }",
    );
    dir = await writeConfigDir({
      "unkeyed/ess.yaml": ESS,
      "unkeyed/connectors/gis.yaml": gis,
      "unkeyed/mappings/people.yaml": people,
      "keyed/ess.yaml": `${ESS}hashKey: \${ESS_HASH_KEY}\n`,
      "keyed/connectors/gis.yaml": gis,
      "keyed/mappings/people.yaml": people,
      "short/ess.yaml": `${ESS}hashKey: \${ESS_HASH_KEY}\n`,
      "short/connectors/gis.yaml": gis,
      "short/mappings/people.yaml": people,
    });
  });
  afterAll(async () => {
    await dir?.remove();
  });

  it("item 11: an unkeyed hash of a PII column is refused with the fix; keyed with hashKey it passes, the key never printed", async () => {
    const unkeyed = await runEssctl(["check", "--offline", "--config", "unkeyed/ess.yaml"], { cwd: dir.dir, env: ENV });
    expect(unkeyed.code).toBe(2);
    expect(unkeyed.stderr).toContain("unkeyed/mappings/people.yaml:7:");
    expect(unkeyed.stderr).toContain("set hashKey: ${ESS_HASH_KEY} in ess.yaml");

    const keyed = await runEssctlInProcess(["check", "--offline", "--json", "--config", "keyed/ess.yaml"], {
      cwd: dir.dir,
      env: { ...ENV, ESS_HASH_KEY: HASH_KEY },
    });
    expect(keyed.stderr).toBe("");
    expect(keyed.code).toBe(0);
    expect(keyed.stdout).not.toContain(HASH_KEY);

    const short = await runEssctlInProcess(["check", "--offline", "--json", "--config", "short/ess.yaml"], {
      cwd: dir.dir,
      env: { ...ENV, ESS_HASH_KEY: "Short-Key-11" },
    });
    expect(short.code).toBe(2);
    // The short key is refused, and without a key the PII column's hash is refused as well.
    expect(JSON.parse(short.stdout).problems).toEqual([
      expect.objectContaining({ path: "hashKey" }),
      expect.objectContaining({ path: "targets[0].fields.ssn" }),
    ]);
    expect(short.stdout).not.toContain("Short-Key-11");
  });
});
