// A partner's maintenance window under the shipped defaults, on a clock scaled 1000:1 (an hour
// lasts 3.6 s): the retry policy, heartbeat and batching the defaults give, divided by SCALE.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULTS } from "../../src/config/defaults.js";
import type { ConnectorConfig, EssConfig } from "../../src/config/types.js";
import { EssEngine } from "../../src/engine.js";
import { silentLogger } from "../../src/ops/logger.js";
import { waitFor } from "../support/capture-fixture.js";
import { createSite, type EssSite } from "../support/ess-site.js";
import { startHttpServer, type TestHttpServer } from "../support/http-server.js";

const SCALE = 1000;
const HOUR_MS = 3_600_000 / SCALE;
const OUTAGE_MS = 2 * HOUR_MS;

/** Two connectors with nothing but their address set: every policy is the default. */
function restConnector(name: string, url: string, path: string): string {
  return [`name: ${name}`, "adapter: rest", "rest:", `  url: ${url}${path}`, `  health: ${url}${path}/health`, ""].join(
    "\n",
  );
}

const MAPPING = [
  "name: permit_partners",
  "source:",
  "  table: public.permits",
  "targets:",
  "  - connector: gis_down",
  "    format: json",
  "    fields: { permit_id: id, status: status }",
  "  - connector: gis_busy",
  "    format: json",
  "    fields: { permit_id: id, status: status }",
  "",
].join("\n");

/** The defaults as loaded, on the scaled clock (attempt counts and limits unchanged). */
function scaled(connector: ConnectorConfig): ConnectorConfig {
  const { retry, heartbeat, batch } = connector;
  return {
    ...connector,
    retry: {
      ...retry,
      initialDelayMs: retry.initialDelayMs / SCALE,
      maxDelayMs: retry.maxDelayMs / SCALE,
      maxAgeMs: retry.maxAgeMs / SCALE,
    },
    heartbeat: { ...heartbeat, everyMs: heartbeat.everyMs / SCALE },
    batch: { ...batch, maxWaitMs: batch.maxWaitMs / SCALE },
  };
}

async function states(site: EssSite): Promise<Record<string, number>> {
  const r = await site.db.query<{ state: string; n: string }>(
    "select state, count(*) as n from ess.deliveries group by state",
  );
  return Object.fromEntries(r.rows.map((row) => [row.state, Number(row.n)]));
}

describe("a two-hour partner outage under the default retry policy", () => {
  let site: EssSite;
  let partner: TestHttpServer;
  let config: EssConfig;
  let engine: EssEngine | undefined;
  let down = false;

  beforeAll(async () => {
    partner = await startHttpServer((request) => {
      // gis_down: the whole host is in maintenance (its health check fails too).
      // gis_busy: the health check answers, the bridge behind it does not.
      if (request.url.endsWith("/health")) return { status: down && request.url.startsWith("/down") ? 503 : 200 };
      if (down) return { status: 503, body: "maintenance" };
      return { status: 201, body: "{}" };
    });
    site = await createSite("night-outage", () => ({
      connectors: {
        gis_down: restConnector("gis_down", partner.url, "/down"),
        gis_busy: restConnector("gis_busy", partner.url, "/busy"),
      },
      mappings: { permit_partners: MAPPING },
    }));
    const loaded = await site.load();
    for (const c of loaded.connectors) expect(c.retry).toEqual(DEFAULTS.retry);
    config = { ...loaded, connectors: loaded.connectors.map(scaled) };
  });
  afterAll(async () => {
    await engine?.stop();
    await partner?.stop();
    await site?.cleanup();
  });

  it("leaves nothing dead and drains everything once the partner is back", async () => {
    engine = await EssEngine.create(config, { logger: silentLogger(), pollMs: 10 });
    void engine.start();
    await site.db.query("insert into permits (id, status) values ('BEFORE-1', 'APPROVED')");
    await waitFor("the first delivery to both partners", async () => (await states(site)).sent === 2);

    down = true;
    const outageStart = Date.now();
    // Changes keep coming during the window: one every ten (scaled) minutes.
    let written = 0;
    while (Date.now() - outageStart < OUTAGE_MS) {
      written++;
      await site.db.query("insert into permits (id, status) values ($1, 'APPROVED')", [`NIGHT-${written}`]);
      await new Promise((r) => setTimeout(r, HOUR_MS / 6));
    }
    const during = await states(site);
    down = false;
    const back = Date.now();

    expect(written).toBeGreaterThanOrEqual(6);
    // The outage was felt: attempts failed and waited for retries.
    const failed = await site.db.query<{ n: string }>(
      "select count(*) as n from ess.audit where event = 'failed' and connector = 'gis_busy'",
    );
    expect(Number(failed.rows[0]?.n)).toBeGreaterThan(written);
    // Without a heartbeat to hold it, the busy partner's first delivery of the night was attempted
    // more often than the old limit of 8 attempts allowed.
    const attempts = await site.db.query<{ most: number }>(
      "select max(attempts) as most from ess.deliveries where connector = 'gis_busy'",
    );
    expect(attempts.rows[0]?.most).toBeGreaterThan(8);
    expect(during.dead ?? 0).toBe(0);
    const offline = await site.db.query("select 1 from ess.audit where event = 'offline' and connector = 'gis_down'");
    expect(offline.rowCount).toBeGreaterThan(0);

    const total = 2 * (written + 1);
    await waitFor(`all ${total} deliveries sent`, async () => (await states(site)).sent === total, 60_000);
    const drainedMs = Date.now() - back;
    const after = await states(site);
    expect(after).toEqual({ sent: total });
    // Back online, waiting retries are due at once: the backlog drains within a scaled quarter of
    // an hour (the busy partner's next retry is at most maxDelay, 10 minutes, away).
    expect(drainedMs).toBeLessThan(HOUR_MS / 4 + 10_000);
    const online = await site.db.query("select 1 from ess.audit where event = 'online' and connector = 'gis_down'");
    expect(online.rowCount).toBeGreaterThan(0);
  });
});
