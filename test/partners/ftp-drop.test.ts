// A partner's FTPS drop through the whole engine against a real FTP server (ftp-srv, explicit TLS):
// drops, and refused credentials holding the connector (attention) instead of dead letters.
import { mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSite, type EssSite, permitStatusMapping } from "../support/ess-site.js";
import { startFtpServer, type TestFtpServer } from "../support/ftp-server.js";
import { auditOf, deliveriesOf, waitForAllSent, waitForConnector } from "./ledger-watch.js";
import { type RunningEngine, runEngine } from "./running-engine.js";
import { writeConnector, writeSecretFile } from "./site-files.js";

const CONNECTOR = "state_archive";

describe("an FTPS drop through the engine, against an FTP server", () => {
  let server: TestFtpServer;
  let site: EssSite;
  let caFile: string;
  let dir: string;
  let engine: RunningEngine | undefined;
  const expected: string[] = [];

  async function configure(password: string): Promise<void> {
    await writeConnector(
      site,
      CONNECTOR,
      [
        `name: ${CONNECTOR}`,
        "adapter: ftp",
        "ftp:",
        `  host: ${server.host}`,
        `  port: ${server.port}`,
        `  username: ${server.username}`,
        `  password: ${password}`,
        `  caFile: ${caFile}`,
        "  dir: /IN",
        '  file: "permit_{date:%Y%m%d}_{batch}.txt"',
        '  doneFile: "{file}.done"',
        "batch: { maxRecords: 10, maxWait: 50ms }",
        "retry: { maxAttempts: 5, initialDelay: 200ms, maxDelay: 1s }",
        "heartbeat: { every: 10s, offlineAfter: 2 }",
        "",
      ].join("\n"),
    );
    await engine?.stop();
    engine = await runEngine(await site.load());
  }

  async function insertPermits(prefix: string, count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      const id = `${prefix}${String(i).padStart(3, "0")}`;
      await site.db.query("insert into permits (id, status, amount) values ($1, 'PENDING', 10.00)", [id]);
      expected.push(id);
    }
  }

  /** The permit ids in the data files, each file's done file checked. */
  async function droppedIds(): Promise<string[]> {
    const ids: string[] = [];
    for (const name of (await readdir(dir)).filter((n) => n.endsWith(".txt")).sort()) {
      expect(await readFile(join(dir, `${name}.done`), "utf8")).toBe(`${name}\n`);
      const lines = (await readFile(join(dir, name), "utf8")).split("\r\n").slice(0, -1);
      ids.push(...lines.map((line) => line.slice(0, 10).trimEnd()));
    }
    return ids.sort();
  }

  beforeAll(async () => {
    server = await startFtpServer();
    site = await createSite("partners-ftp-drop", () => ({
      connectors: {},
      mappings: { permit_status: permitStatusMapping(CONNECTOR) },
    }));
    caFile = await writeSecretFile(site, "archive_ca.pem", server.certificate?.cert ?? "");
    dir = join(server.root, "IN");
    await mkdir(dir);
  });

  afterAll(async () => {
    await engine?.stop();
    await server?.close();
    await site?.cleanup();
  });

  it("lands every table change once, over TLS, a file per batch with its done file", async () => {
    await configure(server.password);
    await insertPermits("FP-", 15);

    await waitForAllSent(site.db, CONNECTOR, expected.length);
    expect(await droppedIds()).toEqual([...expected].sort());
    expect(server.loginsOverTls.every(Boolean)).toBe(true);
  });

  it("refused credentials hold the connector in attention: nothing dead, no attempt spent, and it drains once fixed", async () => {
    const before = await droppedIds();
    await configure("rotated-yesterday");
    await insertPermits("PW-", 5);

    const held = await waitForConnector(site.db, CONNECTOR, "held for its credentials", (c) => c.attention !== null);
    expect(held.attention).toMatch(/login as partner .* was refused \(530\)/);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const waiting = (await deliveriesOf(site.db, CONNECTOR)).filter((d) => d.orderingKey.startsWith("PW-"));
    expect(waiting).toHaveLength(5);
    for (const delivery of waiting) {
      expect(["pending", "retrying"]).toContain(delivery.state);
      expect(delivery.attempts).toBe(0);
    }
    expect(await droppedIds()).toEqual(before);
    expect((await auditOf(site.db, CONNECTOR, "attention")).at(-1)?.error).toContain("ftp.password");
    // The refused password is not in the audit trail.
    const trail = await site.db.query<{ text: string }>(
      "select coalesce(string_agg(error, ' '), '') as text from ess.audit",
    );
    expect(trail.rows[0]?.text).not.toContain("rotated-yesterday");

    await configure(server.password);
    await waitForAllSent(site.db, CONNECTOR, expected.length, 15_000);
    expect(await droppedIds()).toEqual([...expected].sort());
  });
});
