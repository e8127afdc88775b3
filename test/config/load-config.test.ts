// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} and ${file:} are configuration syntax here, not template literals
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ConfigErrors,
  documentFromObject,
  type EssConfig,
  loadConfig,
  loadConfigFromDocuments,
  redactSecrets,
} from "../../src/config/index.js";
import { type ConfigDir, writeConfigDir, yaml } from "./config-dir.js";

const ESS = yaml(
  "database:",
  "  url: postgres://ess@127.0.0.1:5432/hms",
  "replication:",
  "  slot: ess_main",
  "  publication: ess_pub",
);

async function errorsOf(promise: Promise<unknown>): Promise<ConfigErrors> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ConfigErrors) return error;
    throw error;
  }
  throw new Error("the configuration loaded, but errors were expected");
}

describe("loading a configuration", () => {
  const dirs: ConfigDir[] = [];
  const make = async (files: Record<string, string>): Promise<ConfigDir> => {
    const dir = await writeConfigDir(files);
    dirs.push(dir);
    return dir;
  };
  afterAll(async () => {
    await Promise.all(dirs.map((d) => d.remove()));
  });

  it("fills in the SPEC §3 defaults for everything left out", async () => {
    const dir = await make({
      "ess.yaml": ESS,
      "connectors/drop.yaml": yaml("name: drop", "adapter: file", "file: { dir: ./out, file: 'x_{batch}.txt' }"),
      "connectors/box.yaml": yaml(
        "name: box",
        "adapter: sftp",
        "sftp: { host: 127.0.0.1, username: u, password: pw12, hostKey: 'SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8', dir: /in, file: 'b{batch}' }",
      ),
      "connectors/api.yaml": yaml("name: api", "adapter: rest", "rest: { url: 'http://127.0.0.1:9/x' }"),
      "connectors/svc.yaml": yaml(
        "name: svc",
        "adapter: soap",
        "soap: { wsdl: 'http://127.0.0.1:9/?wsdl', operation: Op }",
      ),
      "mappings/m.yaml": yaml(
        "name: m",
        "source: { table: permits }",
        "targets:",
        "  - { connector: drop, format: csv, fields: { id: id } }",
      ),
    });
    const config = await loadConfig(dir.path("ess.yaml"), { env: {} });
    expect(config.ledger).toEqual({ schema: "ess", retention: { deliveredMs: 604_800_000, auditMs: 34_560_000_000 } });
    expect(config.replication).toMatchObject({ plugin: "pgoutput", heartbeatMs: 10_000, stallAfterMs: 300_000 });
    expect(config.connectorsDir).toBe(dir.path("connectors"));
    expect(config.mappingsDir).toBe(dir.path("mappings"));
    expect(config.http).toEqual({ host: "127.0.0.1", port: 9464 });
    const byName = new Map(config.connectors.map((c) => [c.name, c]));
    const drop = byName.get("drop");
    expect(drop).toMatchObject({
      adapter: "file",
      encoding: "utf-8",
      batch: { maxRecords: 500, maxWaitMs: 1000 },
      retry: { maxAttempts: 500, initialDelayMs: 2000, maxDelayMs: 600_000, maxAgeMs: 86_400_000 },
      heartbeat: { everyMs: 30_000, offlineAfter: 3 },
      ordering: "key",
      dryRun: false,
      file: { dir: dir.path("connectors/out"), file: "x_{batch}.txt", mode: "file-per-batch", tempSuffix: ".part" },
    });
    expect(drop?.schedule).toBeUndefined();
    expect(byName.get("box")).toMatchObject({ sftp: { port: 22, mode: "file-per-batch", tempSuffix: ".part" } });
    expect(byName.get("api")).toMatchObject({ rest: { method: "POST", timeoutMs: 10_000, headers: {} } });
    expect(byName.get("svc")).toMatchObject({ soap: { timeoutMs: 10_000 } });
    const mapping = config.mappings[0];
    expect(mapping?.source).toEqual({
      table: { schema: "public", name: "permits" },
      ops: ["insert", "update", "delete"],
      where: {},
    });
    expect(mapping?.timezone).toBe("UTC");
    expect(mapping?.pii).toEqual([]);
    expect(mapping?.targets[0]).toMatchObject({
      terminator: "crlf",
      overflow: "error",
      unmappable: "error",
      csv: { header: true, delimiter: "," },
    });
  });

  it("interpolates every string, including numbers and booleans given through ${VAR:-default}", async () => {
    const dir = await make({
      "ess.yaml": yaml(
        "database:",
        "  url: postgres://ess@${DB_HOST:-127.0.0.1}:5432/hms",
        "replication: { slot: ess_main, publication: ess_pub, heartbeat: '${HB:-15s}' }",
        "http: { listen: '${LISTEN:-127.0.0.1:0}' }",
      ),
      "connectors/box.yaml": yaml(
        "name: box",
        "adapter: sftp",
        "sftp:",
        "  host: ${SFTP_HOST}",
        "  port: ${SFTP_PORT:-2222}",
        "  username: ess",
        "  password: ${SFTP_PASS}",
        "  hostKey: 'SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8'",
        "  dir: /in",
        "  file: 'b_{batch}'",
        "dryRun: ${DRY:-true}",
        "batch: { maxRecords: '${MAX:-42}' }",
        "schedule: ${WINDOW:-always}",
      ),
    });
    const config = await loadConfig(dir.path("ess.yaml"), { env: { SFTP_HOST: "10.0.0.5", SFTP_PASS: "pass-Word-1" } });
    expect(config.database.url).toBe("postgres://ess@127.0.0.1:5432/hms");
    expect(config.replication.heartbeatMs).toBe(15_000);
    expect(config.http).toEqual({ host: "127.0.0.1", port: 0 });
    expect(config.connectors[0]).toMatchObject({
      dryRun: true,
      batch: { maxRecords: 42 },
      sftp: { host: "10.0.0.5", port: 2222, password: "pass-Word-1" },
    });
    expect(config.connectors[0]?.schedule).toBeUndefined();
  });

  it("resolves relative paths against the file that names them, and falls back to the configuration root", async () => {
    const dir = await make({
      "ess.yaml": ESS,
      "wsdl/at-root.wsdl": "<definitions/>",
      "connectors/beside.wsdl": "<definitions/>",
      "connectors/secret.txt": "beside-Secret-99\n",
      "connectors/a.yaml": yaml("name: a", "adapter: soap", "soap: { wsdl: ./beside.wsdl, operation: Op }"),
      "connectors/b.yaml": yaml("name: b", "adapter: soap", "soap: { wsdl: ./wsdl/at-root.wsdl, operation: Op }"),
      "connectors/c.yaml": yaml(
        "name: c",
        "adapter: rest",
        "rest: { url: 'http://127.0.0.1:9/', headers: { Authorization: 'Bearer ${file:secret.txt}' } }",
      ),
    });
    const config = await loadConfig(dir.path("ess.yaml"), { env: {} });
    const soap = config.connectors.flatMap((c) => (c.adapter === "soap" ? [c.soap.wsdl] : []));
    expect(soap).toEqual([dir.path("connectors/beside.wsdl"), dir.path("wsdl/at-root.wsdl")]);
    const rest = config.connectors.find((c) => c.adapter === "rest");
    expect(rest?.adapter === "rest" && rest.rest.headers).toEqual({ Authorization: "Bearer beside-Secret-99" });
    expect(redactSecrets("token beside-Secret-99")).toBe("token ***");
  });

  it("names both places it looked when a WSDL is missing", async () => {
    const dir = await make({
      "ess.yaml": ESS,
      "connectors/a.yaml": yaml("name: a", "adapter: soap", "soap: { wsdl: ./gone.wsdl, operation: Op }"),
    });
    const errors = await errorsOf(loadConfig(dir.path("ess.yaml"), { env: {} }));
    expect(errors.errors).toHaveLength(1);
    expect(errors.errors[0]).toMatchObject({ line: 3, column: 15, path: "soap.wsdl" });
    expect(errors.errors[0]?.message).toContain(dir.path("connectors/gone.wsdl"));
    expect(errors.errors[0]?.message).toContain(dir.path("gone.wsdl"));
  });

  it("registers only what came from a file or sits in a credential position", async () => {
    const dir = await make({
      "ess.yaml": yaml(
        "database:",
        "  url: postgres://ess:${PGPASS}@127.0.0.1:5432/hms",
        "replication: { slot: ess_main, publication: ess_pub }",
      ),
      "connectors/api.yaml": yaml(
        "name: api",
        "adapter: rest",
        "rest:",
        "  url: http://${API_HOST}/x",
        "  headers: { X-Api-Key: '${API_KEY}', Content-Type: application/json }",
        "inbound: { hmacSecret: literal-Hmac-Secret }",
      ),
    });
    await loadConfig(dir.path("ess.yaml"), {
      env: { PGPASS: "pg-Pass-123", API_HOST: "api-host.example", API_KEY: "api-Key-777" },
    });
    expect(redactSecrets("pg-Pass-123 api-Key-777 literal-Hmac-Secret")).toBe("*** *** ***");
    expect(redactSecrets("api-host.example application/json")).toBe("api-host.example application/json");
  });

  it("keeps fields in declaration order with long forms, and reads topics, where values and header records", async () => {
    const dir = await make({
      "ess.yaml": ESS,
      "connectors/drop.yaml": yaml("name: drop", "adapter: file", "file: { dir: /tmp/x, file: 'd_{batch}' }"),
      "mappings/events.yaml": yaml(
        "name: events",
        "source:",
        "  topic: permit.approved",
        "  where: { kind: [1, true, null, big], code: 99999999999999999999 }",
        "  key: id",
        "targets:",
        "  - connector: drop",
        "    format: fixed-width",
        "    header:",
        "      REC: { const: H, width: 1 }",
        "    fields:",
        "      Z_LAST: { from: id, width: 10, align: right, pad: '0' }",
        "      A_FIRST: { from: name, width: 5, format: upper | trim }",
      ),
    });
    const config = await loadConfig(dir.path("ess.yaml"), { env: {} });
    const mapping = config.mappings[0];
    expect(mapping?.source).toEqual({
      topic: "permit.approved",
      ops: ["insert", "update", "delete"],
      where: { kind: [1, true, null, "big"], code: ["99999999999999999999"] },
      key: ["id"],
    });
    const target = mapping?.targets[0];
    expect(target?.fields.map((f) => [f.name, f.spec, f.location.line])).toEqual([
      ["Z_LAST", { from: "id", width: 10, align: "right", pad: "0" }, 12],
      ["A_FIRST", { from: "name", width: 5, format: "upper | trim" }, 13],
    ]);
    expect(target?.header).toEqual([
      { name: "REC", spec: { const: "H", width: 1 }, location: expect.objectContaining({ line: 10, column: 7 }) },
    ]);
  });

  it("builds a configuration given in code, pointing errors at the names it was given", async () => {
    const root = "/srv/ess-demo";
    const documents = {
      root,
      ess: documentFromObject(`${root}/ess.yaml`, {
        database: { url: "${DEMO_URL}" },
        replication: { slot: "ess_demo", publication: "ess_demo_pub" },
      }),
      connectors: [
        documentFromObject(`${root}/connectors/drop.yaml`, {
          name: "drop",
          adapter: "file",
          file: { dir: "./drops", file: "d_{batch}.txt" },
        }),
      ],
      mappings: [
        documentFromObject(`${root}/mappings/m.yaml`, {
          name: "m",
          source: { table: "public.permits" },
          targets: [{ connector: "drop", format: "json", fields: { id: "id" } }],
        }),
      ],
    };
    const config: EssConfig = await loadConfigFromDocuments(documents, {
      env: { DEMO_URL: "postgres://127.0.0.1:1/demo" },
    });
    expect(config.file).toBe(`${root}/ess.yaml`);
    expect(config.database.url).toBe("postgres://127.0.0.1:1/demo");
    expect(config.connectors[0]).toMatchObject({ file: { dir: `${root}/connectors/drops` } });
    expect(config.mappings.map((m) => m.name)).toEqual(["m"]);

    const broken = {
      ...documents,
      mappings: [
        documentFromObject(`${root}/mappings/m.yaml`, {
          name: "m",
          source: { table: "t" },
          targets: [{ connector: "nope", format: "json", fields: { id: "id" } }],
        }),
      ],
    };
    const errors = await errorsOf(
      loadConfigFromDocuments(broken, { env: { DEMO_URL: "postgres://127.0.0.1:1/demo" } }),
    );
    expect(errors.errors.map((e) => [e.file, e.path])).toEqual([[`${root}/mappings/m.yaml`, "targets[0].connector"]]);
  });

  it("collects the errors of every file instead of stopping at the first", async () => {
    const dir = await make({
      "ess.yaml": yaml(
        "database: { url: 'http://nope' }",
        "replication: { slot: ess_main, publication: ess_pub, plugin: decoderbufs }",
      ),
      "connectors/a.yaml": yaml("name: a", "adapter: rest", "rest: { url: ftp://x, method: GET }"),
      "connectors/b.yaml": "name: b\nadapter: x: y\n",
      "mappings/m.yaml": yaml("name: m", "source: { table: permits, ops: [] }", "targets: []"),
    });
    const errors = await errorsOf(loadConfig(dir.path("ess.yaml"), { env: {} }));
    expect(errors.errors.map((e) => `${e.file.slice(dir.dir.length + 1)}:${e.line} ${e.path}`)).toEqual([
      "ess.yaml:1 database.url",
      "ess.yaml:2 replication.plugin",
      "connectors/a.yaml:3 rest.url",
      "connectors/a.yaml:3 rest.method",
      "connectors/b.yaml:2 adapter",
      "mappings/m.yaml:2 source.ops",
      "mappings/m.yaml:3 targets",
    ]);
    expect(errors.message).toMatch(/^7 configuration errors:\n {2}ess\.yaml|^7 configuration errors:\n {2}\//);
  });
});

describe("loading the shipped examples", () => {
  let config: EssConfig;
  beforeAll(async () => {
    config = await loadConfig("ess.yaml", {
      env: { CITY_SFTP_HOST_KEY: "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8" },
    });
  });

  it("loads with only the SFTP host key pinned, the WSDL found next to the connectors", () => {
    const county = config.connectors.find((c) => c.name === "county_scheduler");
    expect(county?.adapter === "soap" && county.soap.wsdl).toMatch(/\/connectors\/county_scheduler\.wsdl$/);
    expect(config.mappings.find((m) => m.name === "visit_reschedule")?.source.topic).toBe("reschedule");
  });
});
