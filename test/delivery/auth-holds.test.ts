// Refused credentials are the connector's problem, not the record's: the connector is held with the
// reason, no delivery is dead-lettered or spends an attempt, and `essctl list` says why they wait.
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EssEngine } from "../../src/engine.js";
import { silentLogger } from "../../src/ops/logger.js";
import { emitEvent } from "../partners/application-events.js";
import { waitFor } from "../support/capture-fixture.js";
import { createSite, type EssSite, permitStatusMapping } from "../support/ess-site.js";
import { essctl } from "../support/essctl.js";
import { startHttpServer, type TestHttpServer } from "../support/http-server.js";
import { soapFault, startSoapServer, type TestSoapServer } from "../support/soap-server.js";

function restConnector(url: string): string {
  return [
    "name: gis",
    "adapter: rest",
    "rest:",
    `  url: ${url}/api/permits`,
    "  method: POST",
    "  timeout: 5s",
    `  health: ${url}/health`,
    "batch: { maxRecords: 10, maxWait: 50ms }",
    "retry: { maxAttempts: 2, initialDelay: 100ms, maxDelay: 200ms }",
    "heartbeat: { every: 60s, offlineAfter: 3 }",
    "",
  ].join("\n");
}

describe("authentication failures hold the connector", () => {
  let site: EssSite;
  let engine: EssEngine;
  let partner: TestHttpServer;
  let refuse = 401;

  beforeAll(async () => {
    partner = await startHttpServer((request) => {
      if (request.url === "/health") return { status: 200 };
      return refuse ? { status: refuse, body: "invalid API key" } : { status: 201, body: '{"id":"ok"}' };
    });
    site = await createSite("auth-holds", () => ({
      connectors: { gis: restConnector(partner.url) },
      mappings: { permit_status: permitStatusMapping("gis", "json") },
    }));
    engine = await EssEngine.create(await site.load(), { logger: silentLogger(), pollMs: 25, leaseMs: 2000 });
    void engine.start();
  });
  afterAll(async () => {
    await engine?.stop();
    await partner?.stop();
    await site?.cleanup();
  });

  it.each([401, 403])(
    "item 12: REST %i holds the connector with the reason; deliveries wait unspent, never dead, and list shows why",
    async (status) => {
      refuse = status;
      const ids = [`AUTH${status}-1`, `AUTH${status}-2`, `AUTH${status}-3`];
      for (const id of ids) {
        await site.db.query("insert into permits (id, status, amount) values ($1, 'APPROVED', 1)", [id]);
      }
      await waitFor("the connector held for attention", async () => {
        const r = await site.db.query<{ attention: string | null }>(
          "select attention from ess.connectors where connector = 'gis'",
        );
        return r.rows[0]?.attention?.includes(`HTTP ${status}`) === true;
      });
      const refusedCalls = partner.requests.filter((r) => r.url !== "/health").length;
      // Held: many poll rounds later nothing more was sent, nothing is dead, no attempt is spent.
      await new Promise((resolve) => setTimeout(resolve, 800));
      expect(partner.requests.filter((r) => r.url !== "/health").length).toBe(refusedCalls);
      const rows = await site.db.query<{ state: string; attempts: number }>(
        "select state, attempts from ess.deliveries where ordering_key like $1",
        [`%AUTH${status}-%`],
      );
      expect(rows.rows).toHaveLength(3);
      for (const row of rows.rows) {
        expect(["pending", "retrying"]).toContain(row.state);
        expect(row.attempts).toBe(0);
      }

      const list = await essctl(["list", "--config", site.configPath, "--connector", "gis"]);
      expect(list.code, list.stderr).toBe(0);
      expect(list.stdout).toContain(`(held: attention: POST ${partner.url}/api/permits answered HTTP ${status}`);
      const json = await essctl(["list", "--config", site.configPath, "--connector", "gis", "--json"]);
      const listed = JSON.parse(json.stdout).deliveries as { heldBy: string | null }[];
      expect(listed.filter((d) => d.heldBy?.includes("credentials"))).toHaveLength(3);

      // The operator fixes the key and resumes: everything is sent once.
      refuse = 0;
      const resumed = await essctl(["resume", "gis", "--config", site.configPath]);
      expect(resumed.code, resumed.stderr).toBe(0);
      await waitFor("all sent after resume", async () => {
        const r = await site.db.query<{ n: string }>(
          "select count(*) as n from ess.deliveries where ordering_key like $1 and state = 'sent'",
          [`%AUTH${status}-%`],
        );
        return Number(r.rows[0]?.n) === 3;
      });
    },
  );
});

const COUNTY_WSDL = fileURLToPath(new URL("../../connectors/county_scheduler.wsdl", import.meta.url));
const SHIPPED_RESCHEDULE = fileURLToPath(new URL("../../mappings/visit_reschedule.yaml", import.meta.url));
const COUNTY_PASSWORD = "right-c0unty-pass";

describe("a SOAP authentication fault holds the connector", () => {
  let site: EssSite;
  let engine: EssEngine;
  let county: TestSoapServer;

  beforeAll(async () => {
    // A real soap.listen server that checks the UsernameToken the way a WS-Security service does.
    county = await startSoapServer({
      wsdlFile: COUNTY_WSDL,
      service: "SchedulerService",
      port: "SchedulerPort",
      operation: "Reschedule",
      handler: (call) => {
        if (call.password !== COUNTY_PASSWORD) {
          throw soapFault("wsse:FailedAuthentication", "The security token could not be authenticated or authorized");
        }
        return { confirmation_id: `CONF-${String(call.args.family)}`, status: "RESCHEDULED" };
      },
    });
    const reschedule = await readFile(SHIPPED_RESCHEDULE, "utf8");
    site = await createSite("auth-holds-soap", () => ({
      connectors: {
        county_scheduler: [
          "name: county_scheduler",
          "adapter: soap",
          "soap:",
          `  wsdl: ${COUNTY_WSDL}`,
          `  endpoint: ${county.url}`,
          "  operation: Reschedule",
          "  security: { username: ess-county, password: wrong-pass }",
          "  timeout: 5s",
          "batch: { maxRecords: 10, maxWait: 50ms }",
          "retry: { maxAttempts: 2, initialDelay: 100ms, maxDelay: 200ms }",
          "heartbeat: { every: 60s, offlineAfter: 3 }",
          "",
        ].join("\n"),
      },
      mappings: { visit_reschedule: reschedule },
    }));
    engine = await EssEngine.create(await site.load(), { logger: silentLogger(), pollMs: 25, leaseMs: 2000 });
    void engine.start();
  });
  afterAll(async () => {
    await engine?.stop();
    await county?.stop();
    await site?.cleanup();
  });

  it("item 12: a WS-Security FailedAuthentication fault from soap.listen holds the connector with the reason; nothing is dead or spent", async () => {
    for (const family of ["S-AUTH-1", "S-AUTH-2", "S-AUTH-3"]) {
      await emitEvent(site.db.url, "reschedule", { family, new_date: "2024-05-04" });
    }
    await waitFor("the connector held for attention", async () => {
      const r = await site.db.query<{ attention: string | null }>(
        "select attention from ess.connectors where connector = 'county_scheduler'",
      );
      return r.rows[0]?.attention?.includes("FailedAuthentication") === true;
    });
    const refusedCalls = county.calls.length;
    expect(refusedCalls).toBeGreaterThanOrEqual(1);
    // Held: many poll rounds later nothing more was sent, nothing is dead, no attempt is spent.
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(county.calls.length).toBe(refusedCalls);
    const rows = await site.db.query<{ state: string; attempts: number }>(
      "select state, attempts from ess.deliveries where connector = 'county_scheduler'",
    );
    expect(rows.rows).toHaveLength(3);
    for (const row of rows.rows) {
      expect(["pending", "retrying"]).toContain(row.state);
      expect(row.attempts).toBe(0);
    }
    const dead = await site.db.query("select 1 from ess.audit where event = 'dead'");
    expect(dead.rows).toHaveLength(0);
    const list = await essctl(["list", "--config", site.configPath, "--connector", "county_scheduler"]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain("(held: attention: SOAP Reschedule at");
    // The password is never quoted back.
    expect(list.stdout).not.toContain("wrong-pass");
  });
});
