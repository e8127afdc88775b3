// http.inbound: the partners' listener apart from the operators', optionally with TLS.
import { request as httpsRequest } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { EssEngine } from "../../src/engine.js";
import { silentLogger } from "../../src/ops/logger.js";
import { createSite, type EssSite, fileDropConnector, permitStatusMapping } from "../support/ess-site.js";
import { selfSignedCertificate, type TlsIdentity } from "../support/http-server.js";

function getTls(url: string, ca: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca, method: "GET" }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("the partners' listener with TLS", () => {
  let site: EssSite;
  let tls: TlsIdentity;
  let engine: EssEngine;

  beforeAll(async () => {
    tls = await selfSignedCertificate();
    const keyFile = tls.certFile.replace(/cert\.pem$/, "key.pem");
    site = await createSite("inbound-tls", ({ dropDir }) => ({
      connectors: { city_drop: fileDropConnector("city_drop", dropDir) },
      mappings: { permit_status: permitStatusMapping("city_drop") },
      httpInbound: `{ listen: 127.0.0.1:0, tls: { cert: ${tls.certFile}, key: ${keyFile} } }`,
    }));
    engine = await EssEngine.create(await site.load(), { logger: silentLogger(), processMetrics: false });
    await engine.listen();
  });
  afterAll(async () => {
    await engine?.stop();
    await site?.cleanup();
    await tls?.remove();
  });

  it("item 9: serves /inbound over TLS on http.inbound.listen, and /metrics only on the operators' http.listen", async () => {
    const partners = engine.inboundAddress()?.url ?? "";
    const operators = engine.httpAddress()?.url ?? "";
    expect(partners).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(operators).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await getTls(`${partners}/healthz`, tls.cert)).toBe(200);
    expect(await getTls(`${partners}/metrics`, tls.cert)).toBe(404);
    // Plain HTTP is not answered on the TLS port.
    await expect(fetch(`${partners.replace("https:", "http:")}/healthz`)).rejects.toThrow();
    expect((await fetch(`${operators}/metrics`)).status).toBe(200);
    expect((await fetch(`${operators}/inbound/city_drop`, { method: "POST", body: "{}" })).status).toBe(404);
  });

  it("refuses an inbound listener on the operators' address, naming the field", async () => {
    const { writeFile, readFile } = await import("node:fs/promises");
    const original = await readFile(site.configPath, "utf8");
    try {
      await writeFile(
        site.configPath,
        original
          .replace("  listen: 127.0.0.1:0\n  inbound:", "  listen: 127.0.0.1:9464\n  inbound:")
          .replace(/inbound: \{ listen: 127\.0\.0\.1:0,/, "inbound: { listen: 127.0.0.1:9464,"),
      );
      await expect(loadConfig(site.configPath, { env: {} })).rejects.toThrow(
        /http\.inbound\.listen is the same address/,
      );
    } finally {
      await writeFile(site.configPath, original);
    }
  });
});
