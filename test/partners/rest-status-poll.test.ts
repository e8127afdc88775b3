// A REST partner that answers through a status endpoint: ESS polls it for every delivery sent and
// not yet answered, confirms or rejects on its verdict, and gives up after pull.giveUpAfter.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../support/capture-fixture.js";
import { createSite, type EssSite } from "../support/ess-site.js";
import { startHttpServer, type TestHttpServer } from "../support/http-server.js";
import { type RunningEngine, runEngine } from "./running-engine.js";

function gisConnector(partner: string): string {
  return [
    "name: gis",
    "adapter: rest",
    "rest:",
    `  url: ${partner}/api/bridge`,
    "  method: POST",
    '  headers: { X-API-Key: "gis-key-1" }',
    "  timeout: 5s",
    "batch: { maxRecords: 10, maxWait: 50ms }",
    "heartbeat: { every: 1s, offlineAfter: 3 }",
    "pull:",
    `  url: ${partner}/api/status/{correlationId}`,
    "  every: 200ms",
    "  giveUpAfter: 3s",
    "",
  ].join("\n");
}

const MAPPING = [
  "name: permit_status",
  "source:",
  "  table: public.permits",
  "targets:",
  "  - connector: gis",
  "    format: json",
  "    fields: { permit_id: id, status: status }",
  "",
].join("\n");

describe("a REST partner's status endpoint, polled", () => {
  let site: EssSite;
  let partner: TestHttpServer;
  let engine: RunningEngine;
  /** What the partner says per permit id; unknown ids are "still processing". */
  const verdicts = new Map<string, Record<string, unknown>>();
  /** Answers given as they are, bytes and all, per permit id. */
  const rawAnswers = new Map<string, string>();
  /** correlation id → permit id, learned from the deliveries the partner received. */
  const permits = new Map<string, string>();

  beforeAll(async () => {
    partner = await startHttpServer((request) => {
      if (request.method === "POST") {
        const body = JSON.parse(request.body) as { permit_id: string };
        const correlation = String(request.headers["x-correlation-id"] ?? "");
        permits.set(correlation, body.permit_id);
        return { status: 201, body: "{}" };
      }
      const correlation = decodeURIComponent(request.url.split("/").pop() ?? "");
      const raw = rawAnswers.get(permits.get(correlation) ?? "");
      if (raw !== undefined) return { status: 200, headers: { "content-type": "application/json" }, body: raw };
      const verdict = verdicts.get(permits.get(correlation) ?? "");
      return verdict
        ? { status: 200, headers: { "content-type": "application/json" }, body: JSON.stringify(verdict) }
        : { status: 200, body: JSON.stringify({ status: "processing" }) };
    });
    site = await createSite("partners-rest-status", () => ({
      connectors: { gis: gisConnector(partner.url) },
      mappings: { permit_status: MAPPING },
    }));
    engine = await runEngine(await site.load());
  });
  afterAll(async () => {
    await engine?.stop();
    await partner?.stop();
    await site?.cleanup();
  });

  async function stateOf(permit: string): Promise<{ state: string; last_error: string | null; ref: string | null }> {
    const r = await site.db.query<{ state: string; last_error: string | null; ref: string | null }>(
      "select state, last_error, partner_reference as ref from ess.deliveries where ordering_key like $1",
      [`%${permit}%`],
    );
    return r.rows[0] as { state: string; last_error: string | null; ref: string | null };
  }

  it("confirms and rejects on the partner's verdict, keeps asking while it has none, and gives up in the end", async () => {
    await site.db.query(
      "insert into permits (id, status) values ('BP-OK', 'APPROVED'), ('BP-NO', 'APPROVED'), ('BP-SILENT', 'APPROVED')",
    );
    await waitFor("three deliveries sent", async () => {
      const r = await site.db.query<{ n: number }>(
        "select count(*)::int as n from ess.deliveries where state in ('sent', 'confirmed', 'dead')",
      );
      return r.rows[0]?.n === 3;
    });
    expect(permits.size).toBe(3);
    // Polls while the partner has no verdict leave every delivery sent.
    await waitFor(
      "the status endpoint asked",
      async () => partner.requests.filter((r) => r.method === "GET").length >= 3,
    );
    expect((await stateOf("BP-OK")).state).toBe("sent");

    verdicts.set("BP-OK", { status: "accepted", reference: "GIS-881" });
    verdicts.set("BP-NO", { status: "rejected", message: "bridge id unknown" });
    await waitFor("BP-OK confirmed by polling", async () => (await stateOf("BP-OK")).state === "confirmed");
    await waitFor("BP-NO rejected by polling", async () => (await stateOf("BP-NO")).state === "dead");
    expect((await stateOf("BP-OK")).ref).toBe("GIS-881");
    expect((await stateOf("BP-NO")).last_error).toBe("rejected by the partner: bridge id unknown");
    const polls = partner.requests.filter((r) => r.method === "GET");
    expect(polls[0]?.headers["x-api-key"]).toBe("gis-key-1");

    await waitFor("BP-SILENT given up", async () => (await stateOf("BP-SILENT")).state === "dead", 15_000);
    expect((await stateOf("BP-SILENT")).last_error).toMatch(/no answer from the partner's status endpoint within 3s/);
    // Answered and given-up deliveries are asked no more.
    const asked = partner.requests.filter((r) => r.method === "GET").length;
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(partner.requests.filter((r) => r.method === "GET").length).toBe(asked);
  });

  it("hostile answers: NUL and lone surrogates are kept visibly, an oversized answer is no verdict, and none holds back the answers after it", async () => {
    // Asked in this order each round (the longest waiting first).
    verdicts.set("BP-NUL", { status: "rejected", reference: "R\u0000F", message: "bad \u0000 permit \ud800" });
    rawAnswers.set(
      "BP-DEEP",
      `{"status":"accepted","reference":"GIS-DEEP","extra":${"[".repeat(20_000)}${"]".repeat(20_000)}}`,
    );
    rawAnswers.set(
      "BP-HUGE",
      `{"status":"accepted","reference":"GIS-HUGE","message":"${"x".repeat(6 * 1024 * 1024)}"}`,
    );
    verdicts.set("BP-AFTER", { status: "accepted", reference: "GIS-AFTER" });
    for (const permit of ["BP-NUL", "BP-DEEP", "BP-HUGE", "BP-AFTER"]) {
      await site.db.query("insert into permits (id, status) values ($1, 'APPROVED')", [permit]);
    }
    await waitFor("BP-AFTER confirmed by polling", async () => (await stateOf("BP-AFTER"))?.state === "confirmed");
    expect(await stateOf("BP-NUL")).toMatchObject({
      state: "dead",
      last_error: "rejected by the partner (reference R\\0F): bad \\0 permit \ufffd",
      ref: "R\\0F",
    });
    expect(await stateOf("BP-DEEP")).toMatchObject({ state: "confirmed", ref: "GIS-DEEP" });
    // More than an answer holds is not read as a verdict: it is asked again until giveUpAfter.
    await waitFor("BP-HUGE given up", async () => (await stateOf("BP-HUGE")).state === "dead", 15_000);
    expect((await stateOf("BP-HUGE")).last_error).toMatch(/no answer from the partner's status endpoint/);
    const stored = await site.db.query<{ n: number }>(
      "select count(*)::int as n from ess.inbound_events where via = 'poll' and message like 'bad %'",
    );
    expect(stored.rows[0]?.n).toBe(1);
  });
});
