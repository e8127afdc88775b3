// The ftp adapter against a real FTP server (ftp-srv) on loopback: explicit TLS, drops, done files, append offsets, identity and login failures.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AdapterError } from "../../src/adapters/adapter.js";
import { FtpAdapter } from "../../src/adapters/ftp-adapter.js";
import type { DropOptions, FtpOptions } from "../../src/config/types.js";
import { silentLogger } from "../../src/ops/logger.js";
import { startFtpServer, type TestFtpServer, testCertificate } from "../support/ftp-server.js";
import { ftpConnector, makeBatch, RecordingContext, resend } from "./drop-fixtures.js";

const logger = silentLogger();
let server: TestFtpServer;
let caFile: string;
/** The drop directory as the FTP client names it, and where it is on disk. */
let remoteDir: string;
let dir: string;
const adapters: FtpAdapter[] = [];

beforeAll(async () => {
  server = await startFtpServer();
  // Outside the FTP tree: the partner's certificate, trusted as its own CA.
  caFile = join(await mkdtemp(join(tmpdir(), "ess-ftp-ca-")), "partner.pem");
  await writeFile(caFile, server.certificate?.cert ?? "");
});

afterAll(async () => {
  await server?.close();
  await rm(join(caFile, ".."), { recursive: true, force: true });
});

beforeEach(async () => {
  const name = `t${Date.now()}${Math.random().toString(36).slice(2, 6)}`;
  remoteDir = `/${name}`;
  dir = join(server.root, name);
  await mkdir(dir);
});

afterEach(async () => {
  await Promise.all(adapters.splice(0).map((adapter) => adapter.close()));
  await rm(dir, { recursive: true, force: true });
});

type FtpSettings = Partial<Omit<FtpOptions, keyof DropOptions>> & Partial<DropOptions>;

function adapterFor(settings: FtpSettings = {}): FtpAdapter {
  const adapter = new FtpAdapter(
    ftpConnector({
      host: server.host,
      port: server.port,
      username: server.username,
      password: server.password,
      caFile,
      dir: remoteDir,
      ...settings,
    }),
    { logger, timeouts: { requestMs: 10_000 } },
  );
  adapters.push(adapter);
  return adapter;
}

async function caught(promise: Promise<unknown>): Promise<AdapterError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(AdapterError);
  return error as AdapterError;
}

describe("ftp adapter, file-per-batch over TLS", () => {
  it("drops the batch under its name with the done file after it, over TLS, and accepts each item with the remote path", async () => {
    const adapter = adapterFor({ doneFile: "{file}.done" });
    const batch = makeBatch({ sequence: 12, rows: ["PERMIT0001APPROVED  ", "PERMIT0002DENIED    "] });
    const name = adapter.batchName(batch);
    const loginsBefore = server.loginsOverTls.length;

    const outcomes = await adapter.send(resend(batch, name), new RecordingContext());

    const path = `${remoteDir}/${name}`;
    expect(name).toBe("permit_20250412_000012.txt");
    expect(outcomes).toEqual([
      { id: "12000", ok: true, reference: path },
      { id: "12001", ok: true, reference: path },
    ]);
    expect((await readdir(dir)).sort()).toEqual([name, `${name}.done`]);
    expect(await readFile(join(dir, name), "utf8")).toBe("PERMIT0001APPROVED  \r\nPERMIT0002DENIED    \r\n");
    expect(await readFile(join(dir, `${name}.done`), "utf8")).toBe(`${name}\n`);
    // The password went over the TLS control connection.
    expect(server.loginsOverTls.slice(loginsBefore)).toEqual([true]);
  });

  it("a resend replaces a half upload and the earlier file: one file, the batch's content", async () => {
    const adapter = adapterFor();
    const batch = makeBatch({ sequence: 13, rows: ["A", "B"] });
    const name = adapter.batchName(batch);
    await writeFile(join(dir, `${name}.part`), "A\r\n");

    await adapter.send(resend(batch, name), new RecordingContext());
    await adapter.send(resend(batch, name), new RecordingContext());

    expect(await readdir(dir)).toEqual([name]);
    expect(await readFile(join(dir, name), "utf8")).toBe("A\r\nB\r\n");
  });

  it("reuses one login for sends and heartbeats, and logs in again after the server dropped the connection", async () => {
    const adapter = adapterFor();
    const before = server.logins.accepted;
    for (const sequence of [1, 2, 3]) {
      const batch = makeBatch({ sequence });
      await adapter.send(resend(batch, adapter.batchName(batch)), new RecordingContext());
      await adapter.heartbeat(AbortSignal.timeout(5_000));
    }
    expect(server.logins.accepted - before).toBe(1);

    await server.dropConnections();
    const batch = makeBatch({ sequence: 4 });
    await adapter.send(resend(batch, adapter.batchName(batch)), new RecordingContext());

    expect(await readdir(dir)).toHaveLength(4);
    expect(server.logins.accepted - before).toBe(2);
  });

  it("a pinned certificate fingerprint is accepted without a CA file", async () => {
    const adapter = adapterFor({ caFile: undefined, certFingerprint: server.certificate?.fingerprint });
    const batch = makeBatch({ sequence: 30 });

    await adapter.send(resend(batch, adapter.batchName(batch)), new RecordingContext());

    expect(await readdir(dir)).toEqual(["permit_20250412_000030.txt"]);
  });
});

describe("ftp adapter, append", () => {
  const append = { file: "permits_{date:%Y%m%d}.csv", mode: "append" as const };

  it("appends batches to the day's file, recording each offset first", async () => {
    const adapter = adapterFor(append);
    const first = makeBatch({ sequence: 1, rows: ["1,APPROVED"] });
    const second = makeBatch({ sequence: 2, rows: ["2,DENIED", "3,APPROVED"] });
    const firstContext = new RecordingContext();
    const secondContext = new RecordingContext();

    await adapter.send(resend(first, adapter.batchName(first)), firstContext);
    await adapter.send(resend(second, adapter.batchName(second)), secondContext);

    expect(await readFile(join(dir, "permits_20250412.csv"), "utf8")).toBe("1,APPROVED\r\n2,DENIED\r\n3,APPROVED\r\n");
    expect(firstContext.saved).toEqual([{ offset: 0 }]);
    expect(secondContext.saved).toEqual([{ offset: 12 }]);
  });

  it("a retry after the append reached the server appends nothing", async () => {
    const adapter = adapterFor(append);
    await writeFile(join(dir, "permits_20250412.csv"), "0,EARLIER\r\n");
    const batch = makeBatch({ sequence: 4, rows: ["4,APPROVED", "5,DENIED"] });
    const name = adapter.batchName(batch);
    const firstAttempt = new RecordingContext();
    await adapter.send(resend(batch, name), firstAttempt);

    const retry = new RecordingContext();
    const outcomes = await adapter.send(resend(batch, name, firstAttempt.state), retry);

    expect(outcomes.map((outcome) => outcome.ok)).toEqual([true, true]);
    expect(await readFile(join(dir, name), "utf8")).toBe("0,EARLIER\r\n4,APPROVED\r\n5,DENIED\r\n");
    expect(retry.saved).toEqual([]);
  });

  it("a file whose size matches neither expectation needs attention and is left alone", async () => {
    const adapter = adapterFor(append);
    await writeFile(join(dir, "permits_20250412.csv"), "0,EARLIER\r\n6,DEN");
    const batch = makeBatch({ sequence: 6, rows: ["6,DENIED"] });

    const error = await caught(
      adapter.send(resend(batch, "permits_20250412.csv", { offset: 11 }), new RecordingContext()),
    );

    expect(error).toMatchObject({ failure: "attention", reason: "append_offset_mismatch" });
    expect(await readFile(join(dir, "permits_20250412.csv"), "utf8")).toBe("0,EARLIER\r\n6,DEN");
  });
});

describe("ftp adapter failures", () => {
  it("wrong credentials need attention (a connector hold), not retries or dead letters", async () => {
    const adapter = adapterFor({ password: "not-the-password" });
    const refused = server.logins.refused;
    const batch = makeBatch({ sequence: 1 });

    const sent = await caught(adapter.send(resend(batch, adapter.batchName(batch)), new RecordingContext()));
    const beat = await caught(adapter.heartbeat(AbortSignal.timeout(5_000)));

    expect(sent).toMatchObject({ failure: "attention", reason: "auth_failed" });
    expect(beat).toMatchObject({ failure: "attention", reason: "auth_failed" });
    expect(sent.message).toContain(`${server.username} on ${server.host}:${server.port}`);
    // One refused login each: the upload, the clean-up of its temporary file, the heartbeat. No retry loop.
    expect(server.logins.refused - refused).toBe(3);
    expect(await readdir(dir)).toEqual([]);
  });

  it("a certificate that no trusted CA signed needs attention and the password is never sent", async () => {
    const adapter = adapterFor({ caFile: undefined });
    const before = server.loginsOverTls.length;

    const beat = await caught(adapter.heartbeat(AbortSignal.timeout(5_000)));

    expect(beat).toMatchObject({ failure: "attention", reason: "tls_untrusted" });
    expect(server.loginsOverTls.length).toBe(before);
  });

  it("a pinned fingerprint the server does not present needs attention and names both", async () => {
    const other = await testCertificate();
    const adapter = adapterFor({ caFile: undefined, certFingerprint: other.fingerprint });
    const before = server.loginsOverTls.length;

    const beat = await caught(adapter.heartbeat(AbortSignal.timeout(5_000)));

    expect(beat).toMatchObject({ failure: "attention", reason: "certificate_mismatch" });
    expect(beat.message).toContain(other.fingerprint.slice(0, 2));
    expect(beat.message).toContain(server.certificate?.fingerprint.slice(-2));
    expect(server.loginsOverTls.length).toBe(before);
  });

  it("a missing remote directory needs attention", async () => {
    const adapter = adapterFor({ dir: `${remoteDir}/missing`, mode: "append", file: "permits.csv" });
    const batch = makeBatch({ sequence: 1 });

    const beat = await caught(adapter.heartbeat(AbortSignal.timeout(5_000)));
    // An append asks for the file's size first, and finds the directory missing before writing.
    const sent = await caught(adapter.send(resend(batch, adapter.batchName(batch)), new RecordingContext()));

    expect(beat).toMatchObject({ failure: "attention", reason: "no_such_directory" });
    expect(sent).toMatchObject({ failure: "attention", reason: "no_such_directory" });
    expect(sent.message).toContain(`${remoteDir}/missing`);
  });

  it("nothing listening is retriable", async () => {
    const adapter = adapterFor({ port: 1 });

    const beat = await caught(adapter.heartbeat(AbortSignal.timeout(5_000)));

    expect(beat).toMatchObject({ failure: "retriable", reason: "connection_refused" });
  });
});

describe("plain FTP", () => {
  let plain: TestFtpServer;

  beforeAll(async () => {
    plain = await startFtpServer({ tls: false });
  });

  afterAll(async () => {
    await plain?.close();
  });

  function plainAdapter(insecure: boolean): FtpAdapter {
    const adapter = new FtpAdapter(
      ftpConnector({
        host: plain.host,
        port: plain.port,
        username: plain.username,
        password: plain.password,
        dir: "/",
        insecure,
      }),
      { logger, timeouts: { requestMs: 10_000 } },
    );
    adapters.push(adapter);
    return adapter;
  }

  it("a server without TLS is refused unless insecure, and the password is never sent in clear text", async () => {
    const batch = makeBatch({ sequence: 1 });
    const adapter = plainAdapter(false);

    const sent = await caught(adapter.send(resend(batch, adapter.batchName(batch)), new RecordingContext()));

    expect(sent).toMatchObject({ failure: "attention", reason: "tls_unavailable" });
    expect(sent.message).toMatch(/refused AUTH TLS .*ftp\.insecure: true/);
    expect(plain.loginsOverTls).toEqual([]);
    expect(await readdir(plain.root)).toEqual([]);
  });

  it("with insecure: true the drop goes over plain FTP", async () => {
    const batch = makeBatch({ sequence: 2 });
    const adapter = plainAdapter(true);

    await adapter.send(resend(batch, adapter.batchName(batch)), new RecordingContext());

    expect(plain.loginsOverTls).toEqual([false]);
    expect(await readFile(join(plain.root, "permit_20250412_000002.txt"), "utf8")).toBe("PERMIT0002APPROVED  \r\n");
  });
});
