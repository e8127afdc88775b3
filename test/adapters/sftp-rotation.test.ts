// rotate: over SFTP against a real OpenSSH sshd: only this connector's own old files are removed, each
// removal audited; an append file starts anew each period and the old one is left complete.
import { mkdir, readdir, readFile, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SftpAdapter } from "../../src/adapters/sftp-adapter.js";
import type { DropOptions } from "../../src/config/types.js";
import { DropRotationTask } from "../../src/delivery/drop-rotation-task.js";
import { migrate } from "../../src/ledger/migrate.js";
import { silentLogger } from "../../src/ops/logger.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { type SshServer, startSshd } from "../support/sshd.js";
import { makeBatch, RecordingContext, resend, sftpConnector } from "./drop-fixtures.js";

const DAY = 86_400_000;
const logger = silentLogger();
let server: SshServer;
let db: TestDatabase;
let pool: pg.Pool;
const adapters: SftpAdapter[] = [];

beforeAll(async () => {
  server = await startSshd();
  db = await createTestDatabase("sftp-rotation");
  await migrate({ connectionString: db.url, schema: "ess" });
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
});

afterAll(async () => {
  await Promise.all(adapters.splice(0).map((adapter) => adapter.close()));
  await pool?.end();
  await db?.drop();
  await server?.dispose();
});

async function freshDir(): Promise<string> {
  const dir = join(server.dropDir, `r${Date.now()}${Math.random().toString(36).slice(2, 6)}`);
  await mkdir(dir);
  return dir;
}

function adapterFor(dir: string, drop: Partial<DropOptions>): SftpAdapter {
  const adapter = new SftpAdapter(
    sftpConnector({
      host: server.host,
      port: server.port,
      username: server.username,
      privateKey: server.privateKey,
      hostKey: server.hostKey,
      dir,
      ...drop,
    }),
    { logger, timeouts: { connectMs: 5_000, requestMs: 10_000 } },
  );
  adapters.push(adapter);
  return adapter;
}

describe("rotate: 7d over SFTP", () => {
  it("removes only the connector's own files older than the period, with their done files, and audits each removal", async () => {
    const dir = await freshDir();
    const now = new Date();
    const file = async (name: string, ageDays: number): Promise<void> => {
      await writeFile(join(dir, name), "x\r\n");
      const at = new Date(now.getTime() - ageDays * DAY);
      await utimes(join(dir, name), at, at);
    };
    await file("permit_20250601_000001.txt", 19);
    await file("permit_20250601_000001.txt.done", 19);
    await file("permit_20250610_000002.txt", 10);
    await file("permit_20250618_000003.txt", 2);
    await file("permit_20250618_000003.txt.done", 2);
    // Not this connector's: another partner's file, a note, a half upload, a directory.
    await file("treasury_20250601.dat", 30);
    await file("permit_notes.txt", 30);
    await file("permit_20250601_000004.txt.part", 30);
    await mkdir(join(dir, "permit_20250501_000009.txt"));

    const adapter = adapterFor(dir, { doneFile: "{file}.done", rotateMs: 7 * DAY });
    const task = new DropRotationTask("city_hall_cobol", 7 * DAY, adapter, pool, "ess", logger);
    const removed = await task.rotateNow(now);

    expect([...removed].sort()).toEqual(
      ["permit_20250601_000001.txt", "permit_20250601_000001.txt.done", "permit_20250610_000002.txt"].map(
        (name) => `${dir}/${name}`,
      ),
    );
    expect((await readdir(dir)).sort()).toEqual([
      "permit_20250501_000009.txt",
      "permit_20250601_000004.txt.part",
      "permit_20250618_000003.txt",
      "permit_20250618_000003.txt.done",
      "permit_notes.txt",
      "treasury_20250601.dat",
    ]);
    const audit = await pool.query<{ connector: string; file: string }>(
      "select connector, detail->>'file' as file from ess.audit where event = 'rotated' and detail->>'file' like $1 order by id",
      [`${dir}/%`],
    );
    expect(audit.rows.map((row) => [row.connector, row.file])).toEqual(removed.map((f) => ["city_hall_cobol", f]));
    expect(await task.rotateNow(now)).toEqual([]);
  });
});

describe("rotate on an append file over SFTP", () => {
  const append = { file: "permits_{date:%Y%m%d}.csv", mode: "append" as const, rotateMs: 7 * DAY };

  it("starts a new file when the period passes, from offset 0, and leaves the old one complete", async () => {
    const dir = await freshDir();
    const adapter = adapterFor(dir, append);
    // 7-day periods start on Mondays: 2025-06-16 and 2025-06-23.
    const sunday = makeBatch({ sequence: 1, rows: ["1,APPROVED"], createdAt: new Date("2025-06-22T23:59:00Z") });
    const monday = makeBatch({ sequence: 2, rows: ["2,DENIED"], createdAt: new Date("2025-06-23T00:01:00Z") });
    const sundayName = adapter.batchName(sunday);
    const mondayName = adapter.batchName(monday);
    expect([sundayName, mondayName]).toEqual(["permits_20250616.csv", "permits_20250623.csv"]);

    const first = new RecordingContext();
    const second = new RecordingContext();
    await adapter.send(resend(sunday, sundayName), first);
    await adapter.send(resend(monday, mondayName), second);

    expect(first.saved).toEqual([{ offset: 0 }]);
    expect(second.saved).toEqual([{ offset: 0 }]);
    expect(await readFile(join(dir, sundayName), "utf8")).toBe("1,APPROVED\r\n");
    expect(await readFile(join(dir, mondayName), "utf8")).toBe("2,DENIED\r\n");
  });

  it("a batch of the old period resent after a restart at the boundary completes the old file, once", async () => {
    const dir = await freshDir();
    const before = makeBatch({ sequence: 3, rows: ["3,APPROVED"], createdAt: new Date("2025-06-22T23:59:59Z") });
    const after = makeBatch({ sequence: 4, rows: ["4,DENIED"], createdAt: new Date("2025-06-23T00:00:00Z") });
    const first = adapterFor(dir, append);
    const name = first.batchName(before);
    // The first attempt appended, and the process died before the ledger heard of it.
    const attempt = new RecordingContext();
    await first.send(resend(before, name), attempt);
    await first.close();

    // A new process: the recorded name and offset bring the batch back to the old period's file.
    const restarted = adapterFor(dir, append);
    expect(restarted.batchName(before)).toBe(name);
    const retry = new RecordingContext();
    await restarted.send(resend(before, name, attempt.state), retry);
    await restarted.send(resend(after, restarted.batchName(after)), new RecordingContext());

    expect(retry.saved).toEqual([]);
    expect((await readdir(dir)).sort()).toEqual(["permits_20250616.csv", "permits_20250623.csv"]);
    expect(await readFile(join(dir, "permits_20250616.csv"), "utf8")).toBe("3,APPROVED\r\n");
    expect(await readFile(join(dir, "permits_20250623.csv"), "utf8")).toBe("4,DENIED\r\n");
  });
});
