import { type ChildProcess, spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EssEngine } from "../../src/engine.js";
import { probeRunningEngine } from "../../src/ops/engine-probe.js";
import { waitFor } from "../support/capture-fixture.js";
import { createSite, type EssSite, fileDropConnector, permitStatusMapping } from "../support/ess-site.js";
import { ESSCTL_NODE_ARGS } from "../support/essctl.js";
import { capturedLogger, readyz, scrape } from "./ops-client.js";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.js";

/**
 * Cuts ESS off its database: new connections get no answer, and the server ends ESS's
 * replication session and its probe connections (the delivery workers' sessions live on).
 */
async function cutOff(site: EssSite, proxy: TcpProxy): Promise<void> {
  proxy.holdNewConnections();
  const ended = await site.db.query<{ n: string }>(
    `select count(pg_terminate_backend(pid)) as n from pg_stat_activity
      where datname = current_database() and application_name in ('ess-replication', 'ess-ops')`,
  );
  expect(Number(ended.rows[0]?.n)).toBeGreaterThanOrEqual(2);
}

describe("/healthz and /readyz", () => {
  let site: EssSite;
  let engine: EssEngine | undefined;
  let proxy: TcpProxy | undefined;

  beforeAll(async () => {
    site = await createSite("ops-health", ({ dropDir }) => ({
      connectors: { city_drop: fileDropConnector("city_drop", dropDir) },
      mappings: { permit_status: permitStatusMapping("city_drop") },
    }));
  });
  afterAll(async () => {
    proxy?.release();
    await engine?.stop();
    await proxy?.stop();
    await site?.cleanup();
  });

  it("healthz answers while the process lives; readyz only while replication is connected and the ledger reachable", async () => {
    const log = capturedLogger();
    // ESS reaches its database (source and ledger) through a proxy the test can hold.
    const direct = new URL(site.db.url);
    proxy = await startTcpProxy(direct.hostname, Number(direct.port));
    const viaProxy = new URL(site.db.url);
    viaProxy.port = String(proxy.port);
    const config = await site.load();
    engine = await EssEngine.create(
      { ...config, database: { url: viaProxy.toString() } },
      {
        logger: log.logger,
        pollMs: 25,
        statusIntervalMs: 200,
        processMetrics: false,
      },
    );
    const { url } = await engine.listen();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(engine.httpAddress()?.port).toBeGreaterThan(0);

    // Listening, but not started: alive, not ready.
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok" });
    const early = await readyz(url);
    expect(early.status).toBe(503);
    expect(early.body.reasons).toContain("replication is not connected");

    void engine.start();
    await waitFor("ready", async () => (await readyz(url)).status === 200);
    const ready = await readyz(url);
    expect(ready.body).toMatchObject({ status: "ready", ready: true, reasons: [] });
    expect(ready.body.checks.ledger).toEqual({ ok: true, detail: "reachable" });

    // Wrong paths and methods.
    expect((await fetch(`${url}/nothing-here`)).status).toBe(404);
    const post = await fetch(`${url}/metrics`, { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");

    await cutOff(site, proxy);
    let down: Awaited<ReturnType<typeof readyz>> | undefined;
    await waitFor("readyz to fail", async () => {
      down = await readyz(url);
      return down.status === 503 && down.body.reasons.length >= 2;
    });
    expect(down?.body.status).toBe("not ready");
    expect(down?.body.checks.ledger?.ok).toBe(false);
    expect(down?.body.checks.ledger?.detail).toMatch(/^the ledger is unreachable: /);
    expect(down?.body.checks.replication).toEqual({ ok: false, detail: "replication is not connected" });
    // Still alive, and still scrapeable (with the last values).
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const during = await scrape(url);
    expect(during.value("ess_replication_connected")).toBe(0);
    expect(during.has("ess_replication_lag_bytes")).toBe(true);

    proxy.release();
    await waitFor("readyz to recover", async () => (await readyz(url)).status === 200, 30_000);
    expect((await scrape(url)).value("ess_replication_connected")).toBe(1);
    // The outage was logged once (not once per scrape), and never with a password.
    const warnings = log
      .lines()
      .filter((l) => l.msg === "cannot read the replication slot status; metrics keep their last values");
    expect(warnings.length).toBeGreaterThanOrEqual(1);
    expect(warnings.length).toBeLessThanOrEqual(2);

    await engine.stop();
    engine = undefined;
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    const gone = await probeRunningEngine({ host: "127.0.0.1", port: Number(new URL(url).port) }, 1_000);
    expect(gone).toMatchObject({ reachable: false, error: expect.stringMatching(/^no ESS answers on 127\.0\.0\.1:/) });
  });

  it("essctl start serves /healthz, /readyz and /metrics on http.listen and stops on SIGTERM", async () => {
    await engine?.stop();
    engine = undefined;
    await site.db.query("insert into permits (id, status) values ('BP-CLI', 'PENDING')");
    const child = spawn(process.execPath, [...ESSCTL_NODE_ARGS, "start", "--config", site.configPath], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ESS_LOG_LEVEL: "info" },
    });
    try {
      const url = await listeningUrl(child);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      await waitFor("essctl start to be ready", async () => (await readyz(url)).status === 200);
      await waitFor("BP-CLI delivered", async () => {
        const metrics = await scrape(url);
        return metrics.value("ess_success_total", { connector: "city_drop" }) === 1;
      });
      const metrics = await scrape(url);
      expect(metrics.value("ess_replication_connected")).toBe(1);
      expect(metrics.has("process_resident_memory_bytes")).toBe(true);
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  });
});

/** Reads essctl's JSON log lines until the one that says where the endpoints listen. */
function listeningUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = "";
    let errors = "";
    const timer = setTimeout(() => reject(new Error(`essctl start did not listen within 30 s: ${errors}`)), 30_000);
    child.stderr?.on("data", (chunk: Buffer) => {
      errors += chunk.toString("utf8");
    });
    child.stdout?.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      for (const line of buffered.split("\n").slice(0, -1)) {
        const entry = JSON.parse(line) as { msg?: string; url?: string };
        if (entry.msg?.startsWith("HTTP endpoints listening") && entry.url) {
          clearTimeout(timer);
          resolve(entry.url);
        }
      }
      buffered = buffered.slice(buffered.lastIndexOf("\n") + 1);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`essctl start exited with ${code} before listening: ${errors}`));
    });
  });
}
