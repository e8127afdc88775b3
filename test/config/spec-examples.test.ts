import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { redactSecrets } from "../../src/config/secrets.js";
import type { ConnectorConfig, EssConfig } from "../../src/config/types.js";

const SPEC_DIR = resolve("test/fixtures/config/spec");
const PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----";
const ENV = {
  DATABASE_URL: "postgres://ess:db-Pa55word@127.0.0.1:5432/hms",
  CITY_SFTP_HOST: "sftp.cityhall.example",
  COUNTY_SOAP_URL: "https://scheduler.county.example/soap",
  COUNTY_USER: "ess-county",
  COUNTY_PASS: "county-Pa55word",
  GIS_KEY: "gis-api-key-0042",
  CITY_SFTP_HOST_KEY: "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8",
};

/** Serves the SPEC's /run/secrets/city_hall_key from memory and everything else from disk. */
async function loadSpec(): Promise<EssConfig> {
  const { readFileSync } = await import("node:fs");
  return await loadConfig(join(SPEC_DIR, "ess.yaml"), {
    env: ENV,
    readFile: (path) => (path === "/run/secrets/city_hall_key" ? `${PRIVATE_KEY}\n` : readFileSync(path, "utf8")),
  });
}

function connector<A extends ConnectorConfig["adapter"]>(config: EssConfig, name: string, adapter: A) {
  const found = config.connectors.find((c) => c.name === name);
  expect(found?.adapter).toBe(adapter);
  return found as Extract<ConnectorConfig, { adapter: A }>;
}

describe("the SPEC §3 examples load exactly as written", () => {
  it("ess.yaml (§3.1) gives the database, ledger, replication, folders and http listener", async () => {
    const config = await loadSpec();
    expect(config.file).toBe(join(SPEC_DIR, "ess.yaml"));
    expect(config.database.url).toBe(ENV.DATABASE_URL);
    expect(config.ledger).toEqual({
      schema: "ess",
      retention: { deliveredMs: 7 * 86_400_000, auditMs: 400 * 86_400_000 },
    });
    expect(config.replication).toEqual({
      slot: "ess_main",
      publication: "ess_pub",
      plugin: "pgoutput",
      heartbeatMs: 10_000,
      stallAfterMs: 300_000,
      failover: false,
    });
    expect(config.connectorsDir).toBe(join(SPEC_DIR, "connectors"));
    expect(config.mappingsDir).toBe(join(SPEC_DIR, "mappings"));
    expect(config.http).toEqual({ host: "127.0.0.1", port: 9464 });
  });

  it("city_hall_cobol (§3.2) is an sftp drop with its key read from the secret file", async () => {
    const config = await loadSpec();
    const city = connector(config, "city_hall_cobol", "sftp");
    expect(city.sftp).toEqual({
      host: "sftp.cityhall.example",
      port: 22,
      username: "ess",
      privateKey: PRIVATE_KEY,
      hostKey: ENV.CITY_SFTP_HOST_KEY,
      dir: "/IN",
      file: "permit_{date:%Y%m%d}_{batch}.txt",
      mode: "file-per-batch",
      tempSuffix: ".part",
      doneFile: "{file}.done",
    });
    expect(city.encoding).toBe("cp037");
    expect(city.batch).toEqual({ maxRecords: 5000, maxWaitMs: 60_000 });
    expect(city.retry).toEqual({ maxAttempts: 8, initialDelayMs: 2000, maxDelayMs: 3_600_000, maxAgeMs: 86_400_000 });
    expect(city.schedule).toEqual({
      kind: "window",
      text: "Mon-Fri 06:00-22:00 America/New_York",
      days: [1, 2, 3, 4, 5],
      startMinute: 360,
      endMinute: 1320,
      timezone: "America/New_York",
    });
    expect(city.heartbeat).toEqual({ everyMs: 30_000, offlineAfter: 3 });
    expect(city.ordering).toBe("key");
    expect(city.dryRun).toBe(false);
    expect(city.location).toMatchObject({ file: join(SPEC_DIR, "connectors/city_hall_cobol.yaml"), line: 1 });
  });

  it("county_scheduler (§3.2) finds its WSDL and carries the WS-Security credentials", async () => {
    const config = await loadSpec();
    const county = connector(config, "county_scheduler", "soap");
    expect(county.soap).toEqual({
      wsdl: join(SPEC_DIR, "connectors/county_scheduler.wsdl"),
      endpoint: ENV.COUNTY_SOAP_URL,
      operation: "Reschedule",
      security: { username: ENV.COUNTY_USER, password: ENV.COUNTY_PASS },
      timeoutMs: 10_000,
    });
    expect(county.encoding).toBe("utf-8");
  });

  it("vdot_gis (§3.2) posts JSON with its API key header", async () => {
    const config = await loadSpec();
    const gis = connector(config, "vdot_gis", "rest");
    expect(gis.rest).toEqual({
      url: "https://gis.vdot.gov/api/bridge",
      method: "POST",
      headers: { "X-API-Key": ENV.GIS_KEY },
      timeoutMs: 10_000,
      health: "https://gis.vdot.gov/health",
    });
  });

  it("permit_status (§3.3) keeps its source, time zone, PII and each target's fields in declaration order", async () => {
    const config = await loadSpec();
    expect(config.mappings).toHaveLength(1);
    const mapping = config.mappings[0]!;
    expect(mapping.name).toBe("permit_status");
    expect(mapping.source).toEqual({
      table: { schema: "public", name: "permits" },
      ops: ["insert", "update"],
      where: { status: ["APPROVED", "DENIED"] },
      key: ["id"],
    });
    expect(mapping.timezone).toBe("America/New_York");
    expect(mapping.pii).toEqual(["applicant_ssn"]);
    const [city, gis, treasury] = mapping.targets;
    expect(city?.connector).toBe("city_hall_cobol");
    expect(city?.format).toBe("fixed-width");
    expect(city?.fields.map((f) => [f.name, f.spec, f.location.line, f.location.column])).toEqual([
      ["PERMIT_ID", "id | width:10", 13, 7],
      ["STATUS", "status | width:10", 14, 7],
      ["TS", "updated_at | format:%Y%m%d%H%M%S", 15, 7],
    ]);
    expect(city?.fields[2]?.location.path).toEqual(["targets", 0, "fields", "TS"]);
    expect(city).toMatchObject({ terminator: "crlf", overflow: "error", unmappable: "error" });
    expect(gis?.fields.map((f) => [f.name, f.spec])).toEqual([
      ["permit_id", "id"],
      ["status", "status | lower"],
    ]);
    expect(treasury).toMatchObject({
      connector: "treasury_batch",
      terminator: "none",
      overflow: "error",
      unmappable: "error",
    });
    expect(treasury?.fields.map((f) => [f.name, f.spec])).toEqual([
      ["PERMIT-ID", "id | pic:X(10)"],
      ["AMOUNT", "amount | pic:S9(7)V99"],
      ["AMOUNT-P", "amount | pic:S9(7)V99 comp-3"],
      ["ISSUED", "updated_at | format:%Y%m%d"],
    ]);
    expect(treasury?.location).toMatchObject({ line: 19, column: 5, path: ["targets", 2] });
  });

  it("registers the secrets it read, so nothing printed later can show them", async () => {
    await loadSpec();
    const text = `key=${PRIVATE_KEY} pass=${ENV.COUNTY_PASS} api=${ENV.GIS_KEY} db=db-Pa55word`;
    expect(redactSecrets(text)).toBe("key=*** pass=*** api=*** db=***");
    // Host names and the pinned fingerprint stay readable.
    const readable = `${ENV.CITY_SFTP_HOST} ${ENV.CITY_SFTP_HOST_KEY}`;
    expect(redactSecrets(readable)).toBe(readable);
  });
});
