import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EssEngine } from "../../src/engine.js";
import { silentLogger } from "../../src/ops/logger.js";
import { waitFor } from "../support/capture-fixture.js";
import { createSite, type EssSite } from "../support/ess-site.js";
import { type ReceivedRequest, startHttpServer, type TestHttpServer } from "../support/http-server.js";

const ORDERINGS = ["key", "connector", "none"] as const;

function restConnector(name: string, url: string, extra: string[] = []): string {
  return [
    `name: ${name}`,
    "adapter: rest",
    "rest:",
    `  url: ${url}/${name}`,
    "  method: POST",
    "  timeout: 5s",
    `  health: ${url}/health`,
    // One change per batch: each is claimed (or held) on its own.
    "batch: { maxRecords: 1, maxWait: 10ms }",
    "retry: { maxAttempts: 10, initialDelay: 4s, maxDelay: 4s }",
    "heartbeat: { every: 1s, offlineAfter: 3 }",
    ...extra,
    "",
  ].join("\n");
}

/** A window of half an hour, twelve hours away from now: closed for the whole test. */
function closedWindow(): string {
  const hour = String((new Date().getUTCHours() + 12) % 24).padStart(2, "0");
  return `daily ${hour}:00-${hour}:30 UTC`;
}

const permitOf = (r: ReceivedRequest) => JSON.parse(r.body) as { permit_id: string; status: string };

describe("ordering rules and the schedule hold, as partners see them", () => {
  let site: EssSite;
  let engine: EssEngine | undefined;
  let partner: TestHttpServer;
  /** Accepted changes per connector, in arrival order: "A:v1". */
  const accepted = new Map<string, string[]>();
  const failedOnce = new Set<string>();

  beforeAll(async () => {
    partner = await startHttpServer((request) => {
      if (request.url === "/health") return { status: 200 };
      const connector = request.url.slice(1);
      const permit = permitOf(request);
      const change = `${permit.permit_id}:${permit.status}`;
      // The first attempt of A's first change fails on every connector; its retry comes 4 s later,
      // long after the changes written meanwhile were captured.
      if (change === "A:v1" && !failedOnce.has(connector)) {
        failedOnce.add(connector);
        return { status: 503, body: "try again later" };
      }
      accepted.set(connector, [...(accepted.get(connector) ?? []), change]);
      return { status: 200, body: "{}" };
    });
    site = await createSite("ordering-and-holds", () => ({
      connectors: {
        ...Object.fromEntries(
          ORDERINGS.map((o) => [`ord_${o}`, restConnector(`ord_${o}`, partner.url, [`ordering: ${o}`])]),
        ),
        scheduled: restConnector("scheduled", partner.url, [`schedule: "${closedWindow()}"`]),
      },
      mappings: {
        permit_status: [
          "name: permit_status",
          "source:",
          "  table: public.permits",
          "pii: [applicant_ssn]",
          "targets:",
          ...[...ORDERINGS.map((o) => `ord_${o}`), "scheduled"].flatMap((c) => [
            `  - connector: ${c}`,
            "    format: json",
            "    fields: { permit_id: id, status: status }",
          ]),
          "",
        ].join("\n"),
      },
    }));
    engine = await EssEngine.create(await site.load(), { logger: silentLogger(), pollMs: 25 });
    void engine.start();
  });
  afterAll(async () => {
    await engine?.stop();
    await partner?.stop();
    await site?.cleanup();
  });

  it("key holds A's second change behind its retry while B flows; connector holds everything behind it; none holds nothing; a closed schedule sends nothing and spends no attempt", async () => {
    await site.db.query("insert into permits (id, status) values ('A', 'v1')");
    await waitFor("A's first attempt failed on every ordering", async () => failedOnce.size === ORDERINGS.length);
    await site.db.query("update permits set status = 'v2' where id = 'A'");
    await site.db.query("insert into permits (id, status) values ('B', 'v1')");
    await waitFor(
      "all three changes accepted on every ordering",
      async () => ORDERINGS.every((o) => (accepted.get(`ord_${o}`) ?? []).length === 3),
      30_000,
    );
    expect(accepted.get("ord_key")).toEqual(["B:v1", "A:v1", "A:v2"]);
    expect(accepted.get("ord_connector")).toEqual(["A:v1", "A:v2", "B:v1"]);
    expect(accepted.get("ord_none")).toEqual(["A:v2", "B:v1", "A:v1"]);

    // The scheduled connector received nothing and its deliveries wait without attempts.
    expect(accepted.get("scheduled")).toBeUndefined();
    expect(failedOnce.has("scheduled")).toBe(false);
    const held = await site.db.query<{ state: string; attempts: number }>(
      "select state, attempts from ess.deliveries where connector = 'scheduled' order by id",
    );
    expect(held.rows).toEqual([
      { state: "pending", attempts: 0 },
      { state: "pending", attempts: 0 },
      { state: "pending", attempts: 0 },
    ]);

    // With the window lifted, the same deliveries go (A's first change fails once here too).
    await engine?.stop();
    engine = undefined;
    await writeFile(join(site.dir, "connectors", "scheduled.yaml"), restConnector("scheduled", partner.url));
    engine = await EssEngine.create(await site.load(), { logger: silentLogger(), pollMs: 25 });
    void engine.start();
    await waitFor("the scheduled connector's changes", async () => (accepted.get("scheduled") ?? []).length === 3);
    expect(accepted.get("scheduled")).toEqual(["B:v1", "A:v1", "A:v2"]);
  }, 90_000);
});
