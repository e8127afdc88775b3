// Partner answers, batch bodies and leases that must end in a recorded outcome: no batch loops.
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EssEngine } from "../../src/engine.js";
import { BatchClaims } from "../../src/ledger/batch-claims.js";
import { BatchOutcomes } from "../../src/ledger/batch-outcomes.js";
import { createLogger, type Logger, silentLogger } from "../../src/ops/logger.js";
import { waitFor } from "../support/capture-fixture.js";
import { createSite, type EssSite, fileDropConnector, permitStatusMapping } from "../support/ess-site.js";
import { type ReceivedRequest, startHttpServer, type TestHttpServer } from "../support/http-server.js";

function restConnector(url: string, extra: string[] = []): string {
  return [
    "name: gis",
    "adapter: rest",
    "rest:",
    `  url: ${url}/api/permits`,
    "  method: POST",
    "  timeout: 5s",
    `  health: ${url}/health`,
    "batch: { maxRecords: 10, maxWait: 50ms }",
    "retry: { maxAttempts: 3, initialDelay: 100ms, maxDelay: 200ms }",
    "heartbeat: { every: 1s, offlineAfter: 3 }",
    ...extra,
    "",
  ].join("\n");
}

const permitOf = (r: ReceivedRequest) => JSON.parse(r.body) as { permit_id: string; status: string };

function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      done();
    },
  });
  return { logger: createLogger({ level: "info", destination }), lines };
}

async function deliveryOf(site: EssSite, permit: string) {
  const r = await site.db.query<{
    id: string;
    state: string;
    attempts: number;
    last_error: string | null;
    partner_reference: string | null;
  }>(
    "select id, state, attempts, last_error, partner_reference from ess.deliveries where ordering_key like $1 order by id limit 1",
    [`%${permit}%`],
  );
  return r.rows[0];
}

describe("partner answers holding NUL", () => {
  let site: EssSite;
  let engine: EssEngine;
  let partner: TestHttpServer;

  beforeAll(async () => {
    partner = await startHttpServer((request) => {
      if (request.url === "/health") return { status: 200 };
      const permit = permitOf(request);
      if (permit.permit_id === "NUL-ACK") return { status: 201, body: '{"id":"ack\\u0000x"}' };
      if (permit.permit_id === "NUL-ERR") return { status: 400, body: "bad \u0000 permit" };
      return { status: 201, body: JSON.stringify({ id: `ack-${permit.permit_id}` }) };
    });
    site = await createSite("poison-answers", () => ({
      connectors: { gis: restConnector(partner.url) },
      mappings: { permit_status: permitStatusMapping("gis", "json") },
    }));
    engine = await EssEngine.create(await site.load(), { logger: silentLogger(), pollMs: 25, leaseMs: 1000 });
    void engine.start();
  });
  afterAll(async () => {
    await engine?.stop();
    await partner?.stop();
    await site?.cleanup();
  });

  it("item 4: a partner answer holding NUL (201 reference, 400 error body) is recorded once, the batch neither stays sending nor is resent", async () => {
    await site.db.query("insert into permits (id, status) values ('NUL-ACK', 'APPROVED'), ('NUL-ERR', 'APPROVED')");
    await waitFor("both deliveries settled", async () => {
      const ack = await deliveryOf(site, "NUL-ACK");
      const err = await deliveryOf(site, "NUL-ERR");
      return ack?.state === "sent" && err?.state === "dead";
    });
    const ack = await deliveryOf(site, "NUL-ACK");
    const err = await deliveryOf(site, "NUL-ERR");
    expect(ack?.partner_reference).toBe("ack\\0x");
    expect(err?.last_error).toContain("bad \\0 permit");
    expect(err?.attempts).toBe(1);
    // Longer than two leases: a batch left 'sending' would have been taken over and resent.
    await new Promise((r) => setTimeout(r, 2500));
    const sends = partner.requests.filter((r) => r.url !== "/health");
    expect(sends.filter((r) => permitOf(r).permit_id === "NUL-ACK")).toHaveLength(1);
    expect(sends.filter((r) => permitOf(r).permit_id === "NUL-ERR")).toHaveLength(1);
    const sending = await site.db.query("select 1 from ess.batches where state = 'sending'");
    expect(sending.rows).toHaveLength(0);
  }, 60_000);
});

describe("a batch body that cannot be rendered", () => {
  let site: EssSite;
  let engine: EssEngine;

  beforeAll(async () => {
    site = await createSite("poison-render", ({ dropDir }) => ({
      connectors: { city_drop: fileDropConnector("city_drop", dropDir) },
      mappings: {
        permit_status: [
          "name: permit_status",
          "source:",
          "  table: public.permits",
          "targets:",
          "  - connector: city_drop",
          "    format: fixed-width",
          "    fields:",
          "      PERMIT_ID: id | width:10",
          "    trailer:",
          "      TYPE: const:T | width:1",
          // Room for nine records: a batch of ten overflows the trailer's count.
          "      COUNT: _record_count | pic:9(1)",
          "",
        ].join("\n"),
      },
    }));
    engine = await EssEngine.create(await site.load(), { logger: silentLogger(), pollMs: 25, leaseMs: 1000 });
    void engine.start();
  });
  afterAll(async () => {
    await engine?.stop();
    await site?.cleanup();
  });

  it("item 5: a trailer that overflows its picture dead-letters the batch with the reason, once, and later batches flow", async () => {
    await site.db.query("insert into permits (id, status) select 'R' || g, 'APPROVED' from generate_series(1, 12) g");
    await waitFor("the batch to go dead", async () => {
      const r = await site.db.query<{ n: number }>(
        "select count(*)::int as n from ess.deliveries where state = 'dead'",
      );
      return (r.rows[0]?.n ?? 0) > 0;
    });
    const dead = await site.db.query<{ attempts: number; last_error: string }>(
      "select attempts, last_error from ess.deliveries where state = 'dead'",
    );
    for (const row of dead.rows) {
      expect(row.attempts).toBe(1);
      expect(row.last_error).toMatch(/could not be rendered/);
    }
    const reasons = await site.db.query<{ reason: string }>(
      "select distinct detail->>'reason' as reason from ess.audit where event = 'dead'",
    );
    expect(reasons.rows.map((r) => r.reason)).toEqual(["render_failed"]);
    // A small batch renders; the connector is not blocked by the poison batch.
    await site.db.query("insert into permits (id, status) values ('LATE', 'APPROVED')");
    await waitFor("the later delivery to be sent", async () => (await deliveryOf(site, "LATE"))?.state === "sent");
    await new Promise((r) => setTimeout(r, 2500));
    const sending = await site.db.query("select 1 from ess.batches where state = 'sending'");
    expect(sending.rows).toHaveLength(0);
  }, 60_000);
});

describe("dryRun", () => {
  let site: EssSite;
  let partner: TestHttpServer;

  beforeAll(async () => {
    partner = await startHttpServer((request) =>
      request.url === "/health" ? { status: 200 } : { status: 201, body: '{"id":"real"}' },
    );
    site = await createSite("dry-run", () => ({
      connectors: { gis: restConnector(partner.url, ["dryRun: true"]) },
      mappings: { permit_status: permitStatusMapping("gis", "json") },
    }));
  });
  afterAll(async () => {
    await partner?.stop();
    await site?.cleanup();
  });

  it("item 7: dryRun logs the payload, marks nothing sent, counts no success, and the change is sent once dryRun is off", async () => {
    const { logger, lines } = capturingLogger();
    const dry = await EssEngine.create(await site.load(), { logger, pollMs: 25 });
    void dry.start();
    try {
      await site.db.query("insert into permits (id, status) values ('DRY-1', 'APPROVED')");
      await waitFor("the dry-run preview line", async () => lines.some((l) => l.includes("dry run: not sent")));
      const preview = lines.find((l) => l.includes("dry run: not sent")) ?? "";
      expect(preview).toContain("DRY-1");
      expect((await deliveryOf(site, "DRY-1"))?.state).toBe("pending");
      const metrics = await dry.metrics.registry.metrics();
      expect(metrics).not.toMatch(/ess_success_total\{[^}]*connector="gis"[^}]*\} [1-9]/);
    } finally {
      await dry.stop();
    }
    expect(partner.requests.filter((r) => r.url !== "/health")).toHaveLength(0);

    const config = await site.load();
    const live = await EssEngine.create(
      { ...config, connectors: config.connectors.map((c) => ({ ...c, dryRun: false })) },
      { logger: silentLogger(), pollMs: 25 },
    );
    void live.start();
    try {
      await waitFor(
        "the change to be sent once dryRun is off",
        async () => (await deliveryOf(site, "DRY-1"))?.state === "sent",
      );
      expect(partner.requests.filter((r) => r.url !== "/health").map((r) => permitOf(r).permit_id)).toEqual(["DRY-1"]);
    } finally {
      await live.stop();
    }
  }, 60_000);
});

describe("leases", () => {
  let site: EssSite;
  let partner: TestHttpServer;

  beforeAll(async () => {
    partner = await startHttpServer((request) =>
      request.url === "/health" ? { status: 200 } : { status: 201, body: '{"id":"slow"}', delayMs: 4000 },
    );
    site = await createSite("lost-lease", () => ({
      connectors: { gis: restConnector(partner.url) },
      mappings: { permit_status: permitStatusMapping("gis", "json") },
    }));
  });
  afterAll(async () => {
    await partner?.stop();
    await site?.cleanup();
  });

  it("item 15: a process that lost its lease abandons the send and writes no outcome over the new owner's", async () => {
    const { logger, lines } = capturingLogger();
    const engine = await EssEngine.create(await site.load(), { logger, pollMs: 25, leaseMs: 900 });
    void engine.start();
    try {
      await site.db.query("insert into permits (id, status) values ('LEASE-1', 'APPROVED')");
      await waitFor("the partner to receive the send", async () => partner.requests.some((r) => r.url !== "/health"));
      // Another process takes the batch over (this one is as good as stalled).
      await site.db.query(
        "update ess.batches set owner = 'other-process', lease_until = now() + interval '1 hour' where state = 'sending'",
      );
      await waitFor("the lost lease to be noticed", async () => lines.some((l) => l.includes("batch lease lost")));
      await new Promise((r) => setTimeout(r, 4500));
      const d = await deliveryOf(site, "LEASE-1");
      expect(d?.state).toBe("sending");
      const sent = await site.db.query("select 1 from ess.audit where event in ('sent', 'failed', 'dead')");
      expect(sent.rows).toHaveLength(0);
    } finally {
      await engine.stop();
    }
  }, 60_000);

  it("item 15: outcomes are written only by the batch's owner", async () => {
    const claims = new BatchClaims("ess");
    const outcomes = new BatchOutcomes("ess");
    await site.db.query("update ess.batches set lease_until = now() - interval '1 second'");
    const pg = await import("pg");
    const client = new pg.default.Client({ connectionString: site.db.url });
    await client.connect();
    try {
      const claimed = await claims.claim(client, {
        connector: "gis",
        ordering: "key",
        maxRecords: 10,
        maxWaitMs: 0,
        owner: "owner-a",
        leaseMs: 10,
      });
      expect(claimed).not.toBeNull();
      if (!claimed) return;
      await new Promise((r) => setTimeout(r, 50));
      const taken = await claims.claim(client, {
        connector: "gis",
        ordering: "key",
        maxRecords: 10,
        maxWaitMs: 0,
        owner: "owner-b",
        leaseMs: 60_000,
      });
      expect(taken?.id).toBe(claimed.id);
      const item = claimed.items[0];
      if (!item) throw new Error("the claimed batch has no item");
      const written = await outcomes.recordItems(
        client,
        { id: claimed.id, connector: "gis", attempt: claimed.attempt, owner: "owner-a" },
        [{ id: item.id, token: item.token, verdict: "dead", error: "late answer", reason: "test" }],
      );
      expect(written).toBe(false);
      const d = await deliveryOf(site, "LEASE-1");
      expect(d?.state).toBe("sending");
    } finally {
      await client.end();
    }
  }, 30_000);
});

describe("a batch whose outcome is never recorded", () => {
  let site: EssSite;

  beforeAll(async () => {
    site = await createSite("exhausted-takeover", ({ dropDir }) => ({
      connectors: { city_drop: fileDropConnector("city_drop", dropDir) },
      mappings: { permit_status: permitStatusMapping("city_drop") },
    }));
  });
  afterAll(async () => {
    await site?.cleanup();
  });

  it("every loop that meets a poison item ends in a dead letter within maxAttempts: a batch taken over past maxAttempts is dead-lettered, not sent again", async () => {
    const engine = await EssEngine.create(await site.load(), { logger: silentLogger(), pollMs: 25 });
    void engine.start();
    try {
      await site.db.query("insert into permits (id, status) values ('LOOP-1', 'APPROVED')");
      await waitFor("the delivery to be sent", async () => (await deliveryOf(site, "LOOP-1"))?.state === "sent");
    } finally {
      await engine.stop();
    }
    // As if three processes in a row died after claiming it (maxAttempts: 3): attempts were
    // counted at each claim, before each send, and no outcome was ever recorded.
    await site.db.query(
      "update ess.batches set state = 'sending', attempts = 3, owner = 'dead-process', lease_until = now() - interval '1 second'",
    );
    await site.db.query("update ess.deliveries set state = 'sending', attempts = 3");
    const claims = new BatchClaims("ess");
    const pg = await import("pg");
    const client = new pg.default.Client({ connectionString: site.db.url });
    await client.connect();
    try {
      const claimed = await claims.claim(client, {
        connector: "city_drop",
        ordering: "key",
        maxRecords: 50,
        maxWaitMs: 0,
        owner: "next-process",
        leaseMs: 60_000,
        maxAttempts: 3,
      });
      expect(claimed).toBeNull();
    } finally {
      await client.end();
    }
    const d = await deliveryOf(site, "LOOP-1");
    expect(d?.state).toBe("dead");
    expect(d?.last_error).toMatch(/no outcome was recorded after 3 attempts/);
    const audit = await site.db.query<{ reason: string }>(
      "select detail->>'reason' as reason from ess.audit where event = 'dead'",
    );
    expect(audit.rows.map((r) => r.reason)).toEqual(["attempts_exhausted_unrecorded"]);
  }, 30_000);
});
