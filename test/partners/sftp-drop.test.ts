// City hall's SFTP drop through the whole engine against a real OpenSSH sshd: drops, host key pinning, offline and back.
import { mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import iconv from "iconv-lite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerEbcdicCodecs } from "../../src/mapping/index.js";
import { waitFor } from "../support/capture-fixture.js";
import { createSite, type EssSite, permitStatusMapping } from "../support/ess-site.js";
import { type SshServer, startSshd } from "../support/sshd.js";
import { auditOf, connectorRow, deliveriesOf, waitForAllSent, waitForConnector } from "./ledger-watch.js";
import { type RunningEngine, runEngine } from "./running-engine.js";
import { sftpConnectorYaml, writeConnector, writeSecretFile } from "./site-files.js";

const CONNECTOR = "city_hall_cobol";
const DATA_FILE = /^permit_(\d{8})_(\d{6})\.txt$/;
const OFFLINE_AFTER = 2;

interface DropState {
  /** Data file name → its records ("<id>|<status>"). */
  readonly files: Map<string, string[]>;
  readonly others: string[];
}

/** Reads the drop directory: cp037 fixed-width records, each data file with its done file. */
async function readDrop(dir: string): Promise<DropState> {
  const names = (await readdir(dir)).sort();
  const files = new Map<string, string[]>();
  const others: string[] = [];
  for (const name of names) {
    if (!DATA_FILE.test(name)) {
      if (!(name.endsWith(".done") && DATA_FILE.test(name.slice(0, -5)))) others.push(name);
      continue;
    }
    const bytes = await readFile(join(dir, name));
    // The record terminator is CRLF encoded in cp037: 0D 25.
    expect(bytes.subarray(-2)).toEqual(Buffer.from([0x0d, 0x25]));
    const lines = iconv.decode(bytes, "cp037").split("\r\n").slice(0, -1);
    files.set(
      name,
      lines.map((line) => {
        expect(line).toHaveLength(34);
        return `${line.slice(0, 10).trimEnd()}|${line.slice(10, 20).trimEnd()}`;
      }),
    );
  }
  return { files, others };
}

function allRecords(drop: DropState): string[] {
  return [...drop.files.values()].flat().sort();
}

describe("city hall's SFTP drop through the engine, against OpenSSH", () => {
  let server: SshServer;
  let site: EssSite;
  let keyFile: string;
  let dir: string;
  let engine: RunningEngine | undefined;
  /** Every record the table changes so far must produce, as "<id>|<status>". */
  const expected: string[] = [];

  /** `heartbeatEvery` long enough makes the first delivery attempt meet the server before any heartbeat does. */
  async function configure(hostKey: string, heartbeatEvery = "300ms"): Promise<void> {
    await writeConnector(
      site,
      CONNECTOR,
      sftpConnectorYaml({
        name: CONNECTOR,
        server,
        keyFile,
        hostKey,
        dir,
        file: "permit_{date:%Y%m%d}_{batch}.txt",
        mode: "file-per-batch",
        tempSuffix: ".part",
        doneFile: "{file}.done",
        encoding: "cp037",
        policy: [
          "batch: { maxRecords: 10, maxWait: 50ms }",
          "retry: { maxAttempts: 5, initialDelay: 200ms, maxDelay: 1s }",
          `heartbeat: { every: ${heartbeatEvery}, offlineAfter: ${OFFLINE_AFTER} }`,
        ],
      }),
    );
  }

  async function restartEngine(): Promise<void> {
    await engine?.stop();
    engine = await runEngine(await site.load());
  }

  async function insertPermits(prefix: string, count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      const id = `${prefix}${String(i).padStart(3, "0")}`;
      await site.db.query("insert into permits (id, status, amount) values ($1, 'PENDING', 10.00)", [id]);
      expected.push(`${id}|PENDING`);
    }
  }

  beforeAll(async () => {
    registerEbcdicCodecs();
    server = await startSshd();
    site = await createSite("partners-sftp-drop", () => ({
      connectors: {},
      mappings: { permit_status: permitStatusMapping(CONNECTOR) },
    }));
    keyFile = await writeSecretFile(site, "city_hall_key", server.privateKey);
    dir = join(server.dropDir, "IN");
    await mkdir(dir);
  });

  afterAll(async () => {
    await engine?.stop();
    await server?.dispose();
    await site?.cleanup();
  });

  it("lands every table change once, as cp037 drop files renamed from .part with a done file after each", async () => {
    await configure(server.hostKey);
    await restartEngine();
    await insertPermits("BP-", 20);
    for (const id of ["BP-000", "BP-001", "BP-002", "BP-003", "BP-004"]) {
      await site.db.query("update permits set status = 'APPROVED', updated_at = now() where id = $1", [id]);
      expected.push(`${id}|APPROVED`);
    }

    const sent = await waitForAllSent(site.db, CONNECTOR, expected.length);
    const drop = await readDrop(dir);
    expect(drop.others).toEqual([]);
    expect(allRecords(drop)).toEqual([...expected].sort());
    // One file per batch, named once before the first attempt and reported as each delivery's receipt.
    const batches = await site.db.query<{ name: string; sequence: string; created_at: Date }>(
      "select name, sequence, created_at from ess.batches where connector = $1 and state = 'sent' order by id",
      [CONNECTOR],
    );
    expect(batches.rows.map((b) => b.name).sort()).toEqual([...drop.files.keys()]);
    for (const batch of batches.rows) {
      const day = batch.created_at.toISOString().slice(0, 10).replaceAll("-", "");
      expect(batch.name).toBe(`permit_${day}_${batch.sequence.padStart(6, "0")}.txt`);
      expect(await readFile(join(dir, `${batch.name}.done`), "utf8")).toBe(`${batch.name}\n`);
    }
    expect(new Set(sent.map((d) => d.partnerReference))).toEqual(
      new Set([...drop.files.keys()].map((n) => `${dir}/${n}`)),
    );
    // A permit's changes are in commit order across the drop.
    const ordered = [...drop.files.entries()].sort(([a], [b]) => a.localeCompare(b)).flatMap(([, records]) => records);
    expect(ordered.filter((r) => r.startsWith("BP-000|"))).toEqual(["BP-000|PENDING", "BP-000|APPROVED"]);
  });

  it("goes offline after offlineAfter failed heartbeats when sshd stops, holds deliveries without spending attempts, and drains when it is back", async () => {
    await waitForConnector(site.db, CONNECTOR, "online", (c) => c.online && c.attention === null);
    const before = allRecords(await readDrop(dir));
    await server.stop();

    const offline = await waitForConnector(site.db, CONNECTOR, "offline", (c) => !c.online);
    expect(offline.heartbeatFailures).toBeGreaterThanOrEqual(OFFLINE_AFTER);
    const offlineHop = (await auditOf(site.db, CONNECTOR, "offline")).at(-1);
    expect(offlineHop?.error).toMatch(/127\.0\.0\.1/);

    await insertPermits("OFF-", 5);
    await waitFor("the offline backlog captured", async () => {
      const rows = await deliveriesOf(site.db, CONNECTOR);
      return rows.filter((d) => d.orderingKey.startsWith("OFF-")).length === 5;
    });
    // Held: a few poll and heartbeat rounds pass without an attempt.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const held = (await deliveriesOf(site.db, CONNECTOR)).filter((d) => d.orderingKey.startsWith("OFF-"));
    expect(held.map((d) => [d.state, d.attempts])).toEqual(Array(5).fill(["pending", 0]));
    expect((await connectorRow(site.db, CONNECTOR))?.online).toBe(false);

    await server.start();
    await waitForConnector(site.db, CONNECTOR, "back online", (c) => c.online);
    const hops = (await auditOf(site.db, CONNECTOR)).filter((h) => h.event === "offline" || h.event === "online");
    expect(hops.at(-1)?.event).toBe("online");
    expect(hops.at(-2)?.event).toBe("offline");
    await waitForAllSent(site.db, CONNECTOR, expected.length);
    const after = await readDrop(dir);
    expect(after.others).toEqual([]);
    expect(allRecords(after)).toEqual([...expected].sort());
    expect(allRecords(after).length - before.length).toBe(5);
  });

  it("refuses a server whose host key is not the pinned one: the backlog is held, not dead, and drains once the pin is corrected", async () => {
    const before = allRecords(await readDrop(dir));
    await configure(server.otherHostKey, "10s");
    await restartEngine();
    await insertPermits("HK-", 5);

    const held = await waitForConnector(site.db, CONNECTOR, "held for the host key", (c) => c.attention !== null);
    expect(held.attention).toContain(server.hostKey);
    expect(held.attention).toContain(server.otherHostKey);
    // Held, not retried: a second and many poll rounds later nothing has landed and no attempt was spent.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(allRecords(await readDrop(dir))).toEqual(before);
    const waiting = (await deliveriesOf(site.db, CONNECTOR)).filter((d) => d.orderingKey.startsWith("HK-"));
    expect(waiting).toHaveLength(5);
    for (const delivery of waiting) {
      expect(["pending", "retrying"]).toContain(delivery.state);
      expect(delivery.attempts).toBe(0);
    }
    const attention = await auditOf(site.db, CONNECTOR, "attention");
    expect(attention.at(-1)?.error).toContain("host key");
    // The refusal never quotes the private key.
    const trail = await site.db.query<{ text: string }>(
      "select coalesce(string_agg(error, ' '), '') as text from ess.audit",
    );
    expect(trail.rows[0]?.text).not.toContain(server.privateKey.split("\n")[1]);

    await configure(server.hostKey);
    await restartEngine();
    await waitForAllSent(site.db, CONNECTOR, expected.length, 15_000);
    expect(allRecords(await readDrop(dir))).toEqual([...expected].sort());
  });

  it("item 12: a wrong host key found by the heartbeat holds the connector with the reason, before any delivery", async () => {
    await configure(server.otherHostKey, "200ms");
    await restartEngine();
    const held = await waitForConnector(site.db, CONNECTOR, "held by the heartbeat", (c) => c.attention !== null);
    expect(held.attention).toContain(server.otherHostKey);
    const attention = await auditOf(site.db, CONNECTOR, "attention");
    const count = attention.length;
    // Later probes find the same problem: one audit row, not one per probe.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await auditOf(site.db, CONNECTOR, "attention")).toHaveLength(count);
    await engine?.stop();
    engine = undefined;
  });
});
