// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} is configuration syntax here, not template literals
// A whole `essctl start` run at debug level with known secrets and PII planted: none appears in any
// line it writes, while the partner still gets every record (the SSN keyed-hashed).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEssctl } from "../partners/essctl-start.js";
import { waitFor } from "../support/capture-fixture.js";
import { createSite, type EssSite } from "../support/ess-site.js";
import { startHttpServer, type TestHttpServer } from "../support/http-server.js";

const SSN = "987-65-4321";
const API_KEY = "Planted-Api-Key-77311";
const HASH_KEY = "Planted-Hash-Key-0f3a9c77d1";
const CALLBACK_SECRET = "Planted-Hmac-Secret-5521";

describe("planted secrets and PII never reach the logs", () => {
  let site: EssSite;
  let partner: TestHttpServer;
  beforeAll(async () => {
    partner = await startHttpServer((request) => {
      if (request.url === "/health") return { status: 200 };
      const body = JSON.parse(request.body) as { permit_id: string };
      // A refusal and a redirect quote the request headers back, as careless partners do.
      if (body.permit_id === "REFUSED") return { status: 422, body: `refused for key ${API_KEY}` };
      return { status: 201, body: JSON.stringify({ id: `ack-${body.permit_id}` }) };
    });
    site = await createSite("planted-secrets", () => ({
      connectors: {
        gis: [
          "name: gis",
          "adapter: rest",
          "rest:",
          `  url: ${partner.url}/api`,
          `  health: ${partner.url}/health`,
          '  headers: { X-API-Key: "${GIS_KEY}" }',
          "batch: { maxRecords: 10, maxWait: 50ms }",
          "retry: { maxAttempts: 1, initialDelay: 100ms, maxDelay: 200ms }",
          "inbound: { hmacSecret: ${CALLBACK_SECRET} }",
          "",
        ].join("\n"),
      },
      mappings: {
        people: [
          "name: people",
          "source: { table: public.permits }",
          "pii: [applicant_ssn]",
          "targets:",
          "  - connector: gis",
          "    format: json",
          "    fields: { permit_id: id, ssn: applicant_ssn | hash }",
          "",
        ].join("\n"),
      },
      essYaml: "hashKey: ${ESS_HASH_KEY}",
    }));
  });
  afterAll(async () => {
    await partner?.stop();
    await site?.cleanup();
  });

  it("item 10/11: a debug-level run's output holds no password, API key, HMAC secret, hashKey or planted SSN", async () => {
    const dbPassword = new URL(site.db.url).password;
    const ess = startEssctl(["start", "--config", site.configPath], {
      ESS_LOG_LEVEL: "debug",
      GIS_KEY: API_KEY,
      ESS_HASH_KEY: HASH_KEY,
      CALLBACK_SECRET,
    });
    try {
      for (const id of ["P1", "P2", "REFUSED"]) {
        await site.db.query("insert into permits (id, status, applicant_ssn) values ($1, 'APPROVED', $2)", [id, SSN]);
      }
      await waitFor(
        "every delivery sent or dead",
        async () => {
          const r = await site.db.query<{ n: string }>(
            "select count(*) as n from ess.deliveries where state in ('sent', 'dead')",
          );
          return Number(r.rows[0]?.n) === 3;
        },
        60_000,
      );
    } finally {
      await ess.terminate();
    }
    const output = ess.stdout() + ess.stderr();
    expect(output).toContain("ESS started");
    expect(output.split("\n").length).toBeGreaterThan(10);
    const planted = [SSN, API_KEY, HASH_KEY, CALLBACK_SECRET, ...(dbPassword.length >= 4 ? [dbPassword] : [])];
    for (const value of planted) expect(output, `planted value found in the log`).not.toContain(value);
    // The partner got the records, the SSN as its keyed hash only.
    const bodies = partner.requests.filter((r) => r.url === "/api").map((r) => r.body);
    expect(bodies.length).toBeGreaterThanOrEqual(3);
    for (const body of bodies) expect(body).not.toContain(SSN);
  });
});
