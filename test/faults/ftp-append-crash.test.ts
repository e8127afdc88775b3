// FTPS append under SIGKILL: ESS killed at each point of an append to a real FTP server (ftp-srv,
// explicit TLS) under load, with `rotate: 20s` starting a new file every 20 seconds and removing
// the old ones; afterwards every committed change is in the partner's files exactly once.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminUrl } from "../support/database.js";
import { startFtpServer, type TestFtpServer } from "../support/ftp-server.js";
import { EssProcess } from "./ess-process.js";
import { createFaultSite, type FaultSite } from "./fault-site.js";
import { judge, parseRecords, type Reception, type Verdict } from "./partner-view.js";
import { Workload } from "./workload.js";

/** Every point an append passes, aimed at the FTP connector; two rounds, so kills also fall on a file that already grew. */
const PLAN = [
  "claimed-before-send:ftp_append",
  "offset-recorded-before-append:ftp_append",
  "accepted-before-ledger:ftp_append",
  "offset-recorded-before-append:ftp_append",
  "accepted-before-ledger:ftp_append",
] as const;

describe("ftp append survives a SIGKILL of ESS at every step of an append", () => {
  let site: FaultSite;
  let server: TestFtpServer;
  let certDir: string;
  let appendDir: string;

  beforeAll(async () => {
    server = await startFtpServer();
    certDir = await mkdtemp(join(tmpdir(), "ess-ftp-crash-"));
    const caFile = join(certDir, "partner.pem");
    await writeFile(caFile, server.certificate?.cert ?? "");
    appendDir = join(server.root, "IN");
    await mkdir(appendDir);
    const url = new URL(adminUrl());
    site = await createFaultSite({
      name: `ftp_${process.pid}`,
      ftp: { ...server, caFile, dir: "/IN", file: "permits_{date:%H%M%S}.txt", rotate: "20s" },
      urlFor: (database) => {
        url.pathname = `/${database}`;
        return url.toString();
      },
    });
  });

  afterAll(async () => {
    await site?.cleanup();
    await server?.close();
    await rm(certDir, { recursive: true, force: true });
  });

  it("each kill is reached under load; then every committed record is in the FTP files exactly once", async () => {
    const workload = new Workload({ url: site.sourceUrl, keys: 40, maxRows: 3, pauseMs: 60 });
    const files = new FileWatch(appendDir);
    workload.start();
    const sizes: number[] = [];
    try {
      for (const point of PLAN) {
        const ess = new EssProcess({ configPath: site.configPath, faults: point });
        const died = await ess.diedAtFaultPoint(40_000);
        await ess.kill9();
        expect(died, `the process never reached ${point}:\n${ess.stderr}`).toBe(true);
        sizes.push((await files.receptions()).length);
      }
    } catch (error) {
      await workload.stop();
      throw error;
    }
    const ess = new EssProcess({ configPath: site.configPath });
    let verdict: Verdict | undefined;
    let committed = new Map<number, readonly string[]>();
    try {
      // The kills may all fall in one rotation period (a quick machine): writes go on until a
      // period boundary has started a second file.
      const secondFileBy = Date.now() + 90_000;
      while (files.seen.size < 2 && Date.now() < secondFileBy) await new Promise((r) => setTimeout(r, 250));
      await workload.stop();
      committed = await workload.committedInSource();
      // Until the file has everything, or nothing new has arrived for 30 s (a loss).
      let lastLost = Number.POSITIVE_INFINITY;
      let progressAt = Date.now();
      while (Date.now() - progressAt < 30_000) {
        verdict = judge(committed, new Map([["ftp_append", await files.receptions()]]), new Set(["ftp_append"]));
        if (verdict.lost === 0) break;
        if (verdict.lost < lastLost) progressAt = Date.now();
        lastLost = verdict.lost;
        await new Promise((r) => setTimeout(r, 250));
      }
      // Rotation removes a file once it is older than its period (checked every 5 s).
      const removalBy = Date.now() + 120_000;
      while (files.removed.size === 0 && Date.now() < removalBy) await new Promise((r) => setTimeout(r, 250));
    } finally {
      await workload.stop();
      await ess.stop();
      files.stop();
    }
    expect(verdict?.problems).toEqual([]);
    expect({ lost: verdict?.lost, duplicated: verdict?.duplicated }).toEqual({ lost: 0, duplicated: 0 });
    expect(committed.size).toBeGreaterThan(50);
    // The kills after an append found records already in the file, which the restart did not add again.
    expect(sizes.at(-1)).toBeGreaterThan(0);
    // Rotation started new files, each from offset 0, and removed old ones (which the watch had read).
    expect(files.seen.size).toBeGreaterThan(1);
    expect(files.removed.size).toBeGreaterThan(0);
    // Every login went over TLS.
    expect(server.loginsOverTls.length).toBeGreaterThan(PLAN.length);
    expect(server.loginsOverTls.every(Boolean)).toBe(true);
  }, 600_000);
});

/**
 * Reads the partner's directory every 100 ms and keeps the last content of each file: rotation
 * removes a file only 20 s after its last append, so the last read of a removed file is complete.
 */
class FileWatch {
  readonly seen = new Map<string, string>();
  readonly removed = new Set<string>();
  private readonly timer: NodeJS.Timeout;
  private reading: Promise<void> = Promise.resolve();

  constructor(private readonly dir: string) {
    this.timer = setInterval(() => {
      this.reading = this.reading.then(() => this.read()).catch(() => undefined);
    }, 100);
  }

  private async read(): Promise<void> {
    const names = (await readdir(this.dir)).filter((name) => name.startsWith("permits_"));
    for (const name of this.seen.keys()) if (!names.includes(name)) this.removed.add(name);
    for (const name of names) {
      const body = await readFile(join(this.dir, name), "utf8").catch(() => undefined);
      if (body !== undefined) this.seen.set(name, body);
    }
  }

  /** Every record of every file seen, files in name order (the period's time of day). */
  async receptions(): Promise<Reception[]> {
    this.reading = this.reading.then(() => this.read());
    await this.reading;
    return [...this.seen.keys()].sort().flatMap((name) => parseRecords(this.seen.get(name) ?? "", name));
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
