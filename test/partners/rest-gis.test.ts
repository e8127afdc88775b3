// The VDOT GIS REST partner through the whole engine: Idempotency-Key, Retry-After honoured, 400 dead-lettered.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../support/capture-fixture.js";
import { createSite, type EssSite, permitStatusMapping } from "../support/ess-site.js";
import { type ReceivedRequest, startHttpServer, type TestHttpServer } from "../support/http-server.js";
import { auditOf, deliveriesOf } from "./ledger-watch.js";
import { type RunningEngine, runEngine } from "./running-engine.js";
import { writeConnector, writeSecretFile } from "./site-files.js";

const CONNECTOR = "vdot_gis";
const API_KEY = "gis-api-key-0042";

interface TimedPost {
  readonly request: ReceivedRequest;
  /** When the partner received it, by its own clock. */
  readonly at: number;
  readonly permitId: string;
}

describe("the VDOT GIS bridge over REST", () => {
  let gis: TestHttpServer;
  let site: EssSite;
  let engine: RunningEngine | undefined;
  const posts: TimedPost[] = [];

  beforeAll(async () => {
    gis = await startHttpServer((request) => {
      if (request.url === "/health") return { status: 200, body: "ok" };
      const permitId = (JSON.parse(request.body) as { permit_id: string }).permit_id;
      posts.push({ request, at: Date.now(), permitId });
      const seen = posts.filter((p) => p.permitId === permitId).length;
      if (permitId === "BP-BUSY" && seen === 1) {
        return { status: 503, headers: { "retry-after": "2" }, body: "bridge busy" };
      }
      if (permitId === "BP-REJECT") {
        return {
          status: 400,
          body: JSON.stringify({ error: "permit_id unknown to GIS", echo: request.headers["x-api-key"] }),
        };
      }
      return { status: 201, body: JSON.stringify({ id: `gis-${permitId}` }) };
    });
    site = await createSite("partners-rest", () => ({
      connectors: {},
      mappings: { permit_status: permitStatusMapping(CONNECTOR, "json") },
    }));
    const keyFile = await writeSecretFile(site, "gis_key", API_KEY);
    await writeConnector(
      site,
      CONNECTOR,
      [
        `name: ${CONNECTOR}`,
        "adapter: rest",
        "rest:",
        `  url: ${gis.url}/api/bridge`,
        "  method: POST",
        `  headers: { X-API-Key: "\${file:${keyFile}}" }`,
        "  timeout: 5s",
        `  health: ${gis.url}/health`,
        "batch: { maxRecords: 10, maxWait: 50ms }",
        // Backoff alone would retry within 300 ms: a gap near 2 s can only come from Retry-After.
        "retry: { maxAttempts: 5, initialDelay: 100ms, maxDelay: 300ms }",
        "heartbeat: { every: 500ms, offlineAfter: 3 }",
        "",
      ].join("\n"),
    );
    engine = await runEngine(await site.load());
  });

  afterAll(async () => {
    await engine?.stop();
    await gis?.stop();
    await site?.cleanup();
  });

  it("sends each change with its Idempotency-Key, waits out Retry-After on a 503, and dead-letters a 400", async () => {
    for (const id of ["BP-BUSY", "BP-REJECT", "BP-OK1", "BP-OK2"]) {
      await site.db.query("insert into permits (id, status) values ($1, 'APPROVED')", [id]);
    }
    await waitFor("every delivery settled", async () => {
      const all = await deliveriesOf(site.db, CONNECTOR);
      return all.length === 4 && all.every((d) => d.state === "sent" || d.state === "dead");
    });
    const all = await deliveriesOf(site.db, CONNECTOR);
    const byKey = new Map(all.map((d) => [d.orderingKey, d]));
    const postsOf = (id: string) => posts.filter((p) => p.permitId === id);

    // Every request carries its delivery's token, the correlation id and the configured API key.
    for (const post of posts) {
      const delivery = byKey.get(post.permitId);
      expect(post.request.headers["idempotency-key"]).toBe(delivery?.token);
      expect(post.request.headers["x-correlation-id"]).toBe(delivery?.correlationId);
      expect(post.request.headers["x-api-key"]).toBe(API_KEY);
      expect(JSON.parse(post.request.body)).toEqual({ permit_id: post.permitId, status: "approved" });
    }
    expect(byKey.get("BP-OK1")).toMatchObject({ state: "sent", attempts: 1, partnerReference: "gis-BP-OK1" });
    expect(byKey.get("BP-OK2")).toMatchObject({ state: "sent", attempts: 1, partnerReference: "gis-BP-OK2" });

    // 503 + Retry-After: 2 → the second request about 2 s after the first, by the partner's clock.
    const busy = postsOf("BP-BUSY");
    expect(busy).toHaveLength(2);
    const gap = (busy[1]?.at ?? 0) - (busy[0]?.at ?? 0);
    expect(gap).toBeGreaterThanOrEqual(1_900);
    // Far below the retry policy's own next delay, with room for a loaded machine's claim cycle.
    expect(gap).toBeLessThan(10_000);
    expect(byKey.get("BP-BUSY")).toMatchObject({ state: "sent", attempts: 2, partnerReference: "gis-BP-BUSY" });
    const failed = (await auditOf(site.db, CONNECTOR, "failed")).filter(
      (h) => h.deliveryId === byKey.get("BP-BUSY")?.id,
    );
    expect(failed.map((h) => h.detail)).toEqual([expect.objectContaining({ reason: "http_503", retryInMs: 2_000 })]);

    // 400 → dead after one attempt, the reason quoted, the echoed API key redacted.
    const rejected = byKey.get("BP-REJECT");
    expect(rejected).toMatchObject({ state: "dead", attempts: 1 });
    expect(rejected?.lastError).toMatch(/HTTP 400/);
    expect(rejected?.lastError).toMatch(/permit_id unknown to GIS/);
    expect(rejected?.lastError).not.toContain(API_KEY);
    expect(postsOf("BP-REJECT")).toHaveLength(1);
    const dead = (await auditOf(site.db, CONNECTOR, "dead")).filter((h) => h.deliveryId === rejected?.id);
    expect(dead.map((h) => h.detail?.reason)).toEqual(["http_400"]);
    expect(dead[0]?.error).not.toContain(API_KEY);
  });
});
