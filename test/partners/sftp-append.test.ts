// A daily CSV appended over SFTP: one header at the top, and no row lost or doubled when `essctl start` is SIGKILLed
// between the append and the ledger update.
import { mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSite, type EssSite } from "../support/ess-site.js";
import { faultEnv } from "../support/fault-arming.js";
import { type SshServer, startSshd } from "../support/sshd.js";
import { type EssctlProcess, startEssctl } from "./essctl-start.js";
import { deliveriesOf, hopsOf, waitForAllSent } from "./ledger-watch.js";
import { type RunningEngine, runEngine } from "./running-engine.js";
import { sftpConnectorYaml, writeConnector, writeSecretFile } from "./site-files.js";

const CONNECTOR = "payroll_sftp";

/** The shipped permit_fees fields, for one connector; `header` says whether the CSV starts with the field names. */
function permitFees(name: string, connector: string, header: boolean): string {
  return [
    `name: ${name}`,
    "source:",
    "  table: public.permits",
    "  ops: [insert]",
    "timezone: America/New_York",
    "pii: [applicant_ssn]",
    "targets:",
    `  - connector: ${connector}`,
    "    format: csv",
    `    csv: { header: ${header} }`,
    "    fields:",
    "      permit_id: id",
    "      status: status",
    "      amount: amount | number:2",
    "      applicant: applicant_ssn | mask",
    "",
  ].join("\n");
}

/** An append-mode connector on the test sshd, writing permits_<day>.csv into `dir`. */
async function appendConnector(site: EssSite, server: SshServer, name: string, dir: string): Promise<void> {
  await mkdir(dir);
  await writeConnector(
    site,
    name,
    sftpConnectorYaml({
      name,
      server,
      keyFile: await writeSecretFile(site, `${name}_key`, server.privateKey),
      dir,
      file: "permits_{date:%Y%m%d}.csv",
      mode: "append",
      encoding: "utf-8",
      policy: [
        "batch: { maxRecords: 100, maxWait: 100ms }",
        "retry: { maxAttempts: 5, initialDelay: 200ms, maxDelay: 1s }",
        "heartbeat: { every: 1s, offlineAfter: 3 }",
      ],
    }),
  );
}

async function insertPermits(site: EssSite, from: number, count: number): Promise<void> {
  for (let i = from; i < from + count; i++) {
    // Commas and quotes in the status exercise the CSV quoting end to end.
    const status = i % 4 === 0 ? 'APPROVED, "fast track"' : "APPROVED";
    await site.db.query("insert into permits (id, status, amount, applicant_ssn) values ($1, $2, $3, $4)", [
      `FEE-${String(i).padStart(4, "0")}`,
      status,
      (i * 12.5).toFixed(2),
      `123-45-${String(1000 + i)}`,
    ]);
  }
}

let server: SshServer;

beforeAll(async () => {
  server = await startSshd();
});

afterAll(async () => {
  await server?.dispose();
});

describe("a daily CSV appended over SFTP, with essctl start killed between append and ledger update", () => {
  let site: EssSite;
  let dir: string;
  const processes: EssctlProcess[] = [];

  function start(env: NodeJS.ProcessEnv = {}): EssctlProcess {
    const child = startEssctl(["start", "--config", site.configPath, "--lease-timeout", "2s"], env);
    processes.push(child);
    return child;
  }

  beforeAll(async () => {
    site = await createSite("partners-sftp-append", () => ({
      connectors: {},
      mappings: { permit_fees: permitFees("permit_fees", CONNECTOR, false) },
    }));
    dir = join(server.dropDir, "payroll");
    await appendConnector(site, server, CONNECTOR, dir);
  });

  afterAll(async () => {
    for (const child of processes) await child.terminate(5_000);
    await site?.cleanup();
  });

  it("holds every row exactly once after the restart, and the ledger shows every delivery sent", async () => {
    await insertPermits(site, 0, 12);
    const crashing = start(faultEnv("accepted-before-ledger"));
    const crash = await crashing.exited(30_000);
    expect(crash, crashing.stderr()).toEqual({ code: null, signal: "SIGKILL" });

    // The partner has the first batch; the ledger does not know yet.
    const [fileName] = await readdir(dir);
    expect(fileName).toMatch(/^permits_\d{8}\.csv$/);
    const path = join(dir, fileName as string);
    const afterCrash = parse(await readFile(path)) as string[][];
    const atCrash = await deliveriesOf(site.db, CONNECTOR);
    const unrecorded = atCrash.filter((d) => d.state === "sending");
    expect(afterCrash.length).toBeGreaterThan(0);
    expect(afterCrash.map((r) => r[0])).toEqual(unrecorded.map((d) => d.orderingKey));
    expect(atCrash.filter((d) => d.state === "sent")).toEqual([]);

    // More rows while ESS is down, then a restart without the fault.
    await insertPermits(site, 12, 8);
    const restarted = start();
    const sent = await waitForAllSent(site.db, CONNECTOR, 20, 20_000);

    const rows = parse(await readFile(path)) as string[][];
    const table = await site.db.query<{ id: string; status: string; amount: string; ssn: string }>(
      "select id, status, amount::text as amount, applicant_ssn as ssn from permits order by id",
    );
    const expected = table.rows.map((r) => [r.id, r.status, r.amount, `*******${r.ssn.slice(-4)}`]);
    expect([...rows].sort((a, b) => String(a[0]).localeCompare(String(b[0])))).toEqual(expected);
    expect(new Set(rows.map((r) => r[0])).size).toBe(20);
    expect((await readdir(dir)).sort()).toEqual([fileName]);

    // The first batch was taken over once its lease ran out, found already appended, and recorded.
    expect(restarted.stdout()).toContain("batch already appended by an earlier attempt");
    const firstBatch = sent.filter((d) => unrecorded.some((u) => u.id === d.id));
    expect(firstBatch).toHaveLength(unrecorded.length);
    for (const delivery of firstBatch) expect(delivery.partnerReference).toBe(path);
    for (const delivery of firstBatch) {
      const own = await hopsOf(site.db, CONNECTOR, delivery.id);
      expect(own.filter((h) => h.event === "attempted").map((h) => h.attempt)).toEqual([1, 2]);
      expect(own.filter((h) => h.event === "sent")).toHaveLength(1);
    }
    // Neither process logged the private key or an applicant's SSN.
    const logs = `${crashing.stdout()}${crashing.stderr()}${restarted.stdout()}${restarted.stderr()}`;
    expect(logs).not.toContain(server.privateKey.split("\n")[1]);
    expect(logs).not.toContain("123-45-");

    // SIGTERM is a graceful stop: the batch in hand is finished and the process exits 0.
    const exit = await restarted.terminate();
    expect(exit, restarted.stderr()).toEqual({ code: 0, signal: null });
    expect(restarted.stdout()).toContain("ESS stopped");
  });
});

describe("a daily CSV with a header row, appended over SFTP batch after batch", () => {
  let site: EssSite;
  let engine: RunningEngine | undefined;

  afterAll(async () => {
    await engine?.stop();
    await site?.cleanup();
  });

  it("starts the day's file with the header and never repeats it", async () => {
    const connector = "payroll_headed";
    const dir = join(server.dropDir, "headed");
    site = await createSite("partners-sftp-header", () => ({
      connectors: {},
      mappings: { permit_fees: permitFees("permit_fees", connector, true) },
    }));
    await appendConnector(site, server, connector, dir);
    engine = await runEngine(await site.load());

    await insertPermits(site, 0, 3);
    await waitForAllSent(site.db, connector, 3);
    await insertPermits(site, 3, 3);
    await waitForAllSent(site.db, connector, 6);

    const [fileName, ...others] = await readdir(dir);
    expect(others).toEqual([]);
    const rows = parse(await readFile(join(dir, fileName as string))) as string[][];
    expect(rows[0]).toEqual(["permit_id", "status", "amount", "applicant"]);
    expect(rows.slice(1).map((r) => r[0])).toEqual([
      "FEE-0000",
      "FEE-0001",
      "FEE-0002",
      "FEE-0003",
      "FEE-0004",
      "FEE-0005",
    ]);
  });
});
