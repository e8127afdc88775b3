// `essctl demo` end to end: the real command line, its report of what each partner received, and its clean-up.
import { type ChildProcess, spawn } from "node:child_process";
import { chmod, mkdtemp, readdir, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { startEmbeddedPostgres } from "../support/embedded-server.js";
import { ESSCTL_NODE_ARGS } from "../support/essctl.js";

interface DemoRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

const temporaryDirs: string[] = [];

afterEach(async () => {
  for (const dir of temporaryDirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** A private TMPDIR, so "nothing left behind" is checked on this run's files only. */
async function privateTmpdir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "ess-demo-test-"));
  // As root the embedded server runs as 'postgres' and must reach its data directory below this one.
  await chmod(dir, 0o755);
  temporaryDirs.push(dir);
  return dir;
}

/** Runs `essctl demo` with TMPDIR=`tmp`; `interrupt` sends a signal once stdout shows a text. */
function runDemo(
  tmp: string,
  options: {
    readonly env?: NodeJS.ProcessEnv;
    readonly interrupt?: { readonly after: string; readonly signal: NodeJS.Signals };
  } = {},
): Promise<DemoRun> {
  const { interrupt } = options;
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, [...ESSCTL_NODE_ARGS, "demo"], {
      // No DATABASE_URL: the demo starts its own embedded PostgreSQL unless a test gives one.
      env: { ...process.env, TMPDIR: tmp, ESS_LOG_LEVEL: "error", DATABASE_URL: "", ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let interrupted = false;
    const timer = setTimeout(() => child.kill("SIGKILL"), 90_000);
    child.stdout?.on("data", (data: Buffer) => {
      stdout += data.toString();
      if (interrupt && !interrupted && stdout.includes(interrupt.after)) {
        interrupted = true;
        child.kill(interrupt.signal);
      }
    });
    child.stderr?.on("data", (data: Buffer) => {
      stderr += data.toString();
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Every loopback port the demo printed (PostgreSQL, SFTP, SOAP, REST). */
function printedPorts(output: string): number[] {
  return [...new Set([...output.matchAll(/127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1])))];
}

function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.setTimeout(1_000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

async function expectCleanedUp(tmp: string, output: string): Promise<void> {
  // tsx keeps its compile cache in TMPDIR too; that is the test's tool, not the demo's.
  const left = (await readdir(tmp)).filter((name) => !name.startsWith("tsx-"));
  expect(left).toEqual([]);
  const ports = printedPorts(output);
  expect(ports.length).toBeGreaterThan(0);
  for (const port of ports) expect(await isListening(port), `port ${port} still listening`).toBe(false);
}

describe("essctl demo", () => {
  it("delivers the shipped examples to local partners, shows what each received and the stats, and cleans up", async () => {
    const tmp = await privateTmpdir();
    const run = await runDemo(tmp);
    expect(run.code, `stderr:\n${run.stderr}\nstdout:\n${run.stdout}`).toBe(0);
    const out = run.stdout;

    // city_hall_cobol over SFTP: EBCDIC fixed-width records, decoded for display, plus the trigger file.
    expect(out).toMatch(/city_hall_cobol \(SFTP 127\.0\.0\.1:\d+ \/IN; cp037 fixed-width/);
    expect(out).toMatch(/permit_\d{8}_\d+\.txt {2}\d+ bytes\n/);
    expect(out).toMatch(/\| BP24-0101 APPROVED {2}\d{14}/);
    expect(out).toMatch(/\| BP24-0102 DENIED {4}\d{14}/);
    expect(out).toMatch(/permit_\d{8}_\d+\.txt\.done {2}\d+ bytes, trigger file/);
    // treasury_batch: binary RECFM=F records with zoned and packed decimals, shown in hex.
    // Three 32-byte records, in one batch file or, on a slow machine, more.
    expect(out).toMatch(/TREAS\.PERMITS\.D\d{6}\.B\d+ {2}(32|64|96) bytes/);
    expect(out).toContain("hex c2d7f2f460f0f1f0f140f0f0f0f1f2f5f0f0c0000125000c");
    // payroll_csv: the day's CSV with the SSN masked.
    expect(out).toContain("permit_id,amount,applicant,approved_at");
    expect(out).toMatch(/BP24-0101,1250\.00,\*+6789,/);
    expect(out).not.toContain("123-45-6789");
    // county_scheduler: the application event (Gateway.send) as a SOAP call with WS-Security.
    expect(out).toMatch(/Gateway\.receipt\("[0-9a-f-]{36}"\) is now "sent"/);
    expect(out).toMatch(
      /Reschedule\(family=A123 new_date=\d{4}-\d{2}-\d{2}\) {2}WS-Security user ess, IdempotencyToken \S+ {2}-> CS-00001/,
    );
    // vdot_gis: one refused with 503, resent with the same idempotency key, then accepted.
    const refused = out.match(/"permit_id":"BP24-0103"[^\n]*Idempotency-Key (\S+) {2}-> HTTP 503/);
    expect(refused).not.toBeNull();
    expect(out).toContain(`"permit_id":"BP24-0103","status":"approved"}  Idempotency-Key ${refused?.[1]}  -> HTTP 200`);
    expect(out).toMatch(/vdot_gis BP24-0103: attempt 1 failed: .*HTTP 503.*; sent on attempt 2 with the same token/);

    // The county scheduler answers through the inbound lane, and an application hears it.
    expect(out).toMatch(
      /county_scheduler calls back: POST \/inbound\/county_scheduler \{"correlationId":"ess-[0-9a-f]+","status":"accepted"/,
    );
    expect(out).toMatch(/-> HTTP 200, delivery \d+ is now "confirmed"/);
    expect(out).toMatch(/NOTIFY ess_inbound \{[^\n]*"connector":"county_scheduler"[^\n]*"status":"accepted"/);
    expect(out).toMatch(/NOTIFY ess_receipts \{[^\n]*"state" ?: ?"confirmed"/);
    expect(out).toMatch(/Gateway\.watch\("[0-9a-f-]{36}"\) saw: (sent -> )?confirmed\n/);

    // The final essctl stats table: every connector delivered and online.
    expect(out).toMatch(/CONNECTOR +PENDING +SENDING +RETRYING +DEAD +SENT +CONFIRMED +LAST SUCCESS +STATE/);
    for (const [connector, sent, confirmed] of [
      ["city_hall_cobol", 3, 0],
      ["county_scheduler", 0, 1],
      ["payroll_csv", 2, 0],
      ["treasury_batch", 3, 0],
      ["vdot_gis", 3, 0],
    ] as const) {
      expect(out).toMatch(new RegExp(`${connector} +0 +0 +0 +0 +${sent} +${confirmed} +\\S+ \\S+ +online`));
    }
    expect(out).toMatch(/replication slot ess_main: active, lag \d+ bytes/);

    await expectCleanedUp(tmp, out);
  });

  it("fails with exit code 1, names the step that failed and still cleans up", async () => {
    const tmp = await privateTmpdir();
    // An unknown log level makes ESS itself refuse to start, after PostgreSQL and the partners are up.
    const run = await runDemo(tmp, { env: { ESS_LOG_LEVEL: "chatty" } });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/the demo failed while starting ESS: .*chatty/);
    await expectCleanedUp(tmp, run.stdout);
  });

  it("uses the server DATABASE_URL points at, in a database of its own that it drops afterwards", async () => {
    const tmp = await privateTmpdir();
    const server = await startEmbeddedPostgres();
    try {
      const run = await runDemo(tmp, { env: { DATABASE_URL: server.url("postgres") } });
      expect(run.code, `stderr:\n${run.stderr}`).toBe(0);
      expect(run.stdout).toMatch(
        /PostgreSQL at DATABASE_URL \(postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/postgres\)/,
      );
      expect(run.stdout).not.toContain(server.password);
      expect(run.stdout).toMatch(/Reschedule\(family=A123/);
      expect((await readdir(tmp)).filter((name) => !name.startsWith("tsx-"))).toEqual([]);
      const left = new pg.Client({ connectionString: server.url("postgres") });
      await left.connect();
      try {
        const databases = await left.query("select datname from pg_database where datname like 'ess_demo_%'");
        const slots = await left.query("select slot_name from pg_replication_slots");
        expect(databases.rows).toEqual([]);
        expect(slots.rows).toEqual([]);
      } finally {
        await left.end();
      }
    } finally {
      await server.stop();
    }
  });

  it("cleans up what it started when interrupted", async () => {
    const tmp = await privateTmpdir();
    const run = await runDemo(tmp, { interrupt: { after: "Business changes", signal: "SIGINT" } });
    expect(run.code, `stderr:\n${run.stderr}`).toBe(1);
    expect(run.stderr).toContain("the demo was interrupted (SIGINT)");
    await expectCleanedUp(tmp, run.stdout);
  });
});
