// The sftp adapter against a real OpenSSH sshd: drops, done files, resends, append offsets, failures.
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AdapterError } from "../../src/adapters/adapter.js";
import { SftpAdapter } from "../../src/adapters/sftp-adapter.js";
import type { DropOptions } from "../../src/config/types.js";
import { silentLogger } from "../../src/ops/logger.js";
import { type SshServer, startSshd } from "../support/sshd.js";
import { makeBatch, RecordingContext, resend, sftpConnector } from "./drop-fixtures.js";

const logger = silentLogger();
let server: SshServer;
let dir: string;
const adapters: SftpAdapter[] = [];

beforeAll(async () => {
  server = await startSshd();
});

afterAll(async () => {
  await server?.dispose();
});

beforeEach(async () => {
  dir = join(server.dropDir, `t${Date.now()}${Math.random().toString(36).slice(2, 6)}`);
  await mkdir(dir);
});

afterEach(async () => {
  await Promise.all(adapters.splice(0).map((adapter) => adapter.close()));
  await rm(dir, { recursive: true, force: true });
});

function adapterFor(drop: Partial<DropOptions> = {}): SftpAdapter {
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

async function caught(promise: Promise<unknown>): Promise<AdapterError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(AdapterError);
  return error as AdapterError;
}

function logins(): number {
  return server.log().match(/Accepted publickey/g)?.length ?? 0;
}

describe("sftp adapter, file-per-batch", () => {
  it("drops the batch under its name with the done file after it, and accepts each item with the remote path", async () => {
    const adapter = adapterFor({ doneFile: "{file}.done" });
    const batch = makeBatch({ sequence: 12, rows: ["PERMIT0001APPROVED  ", "PERMIT0002DENIED    "] });
    const name = adapter.batchName(batch);

    const outcomes = await adapter.send(resend(batch, name), new RecordingContext());

    const path = `${dir}/${name}`;
    expect(name).toBe("permit_20250412_000012.txt");
    expect(outcomes).toEqual([
      { id: "12000", ok: true, reference: path },
      { id: "12001", ok: true, reference: path },
    ]);
    expect((await readdir(dir)).sort()).toEqual([name, `${name}.done`]);
    expect(await readFile(join(dir, name), "utf8")).toBe("PERMIT0001APPROVED  \r\nPERMIT0002DENIED    \r\n");
    expect(await readFile(join(dir, `${name}.done`), "utf8")).toBe(`${name}\n`);
  });

  it("the same batch sent twice leaves one file with the same content", async () => {
    const adapter = adapterFor();
    const batch = makeBatch({ sequence: 13, rows: ["A", "B"] });
    const name = adapter.batchName(batch);
    await writeFile(join(dir, `${name}.part`), "A\r\n");

    await adapter.send(resend(batch, name), new RecordingContext());
    await adapter.send(resend(batch, name), new RecordingContext());

    expect(await readdir(dir)).toEqual([name]);
    expect(await readFile(join(dir, name), "utf8")).toBe("A\r\nB\r\n");
  });

  it("reuses one connection for sends and heartbeats", async () => {
    const adapter = adapterFor();
    const before = logins();
    for (const sequence of [1, 2, 3]) {
      const batch = makeBatch({ sequence });
      await adapter.send(resend(batch, adapter.batchName(batch)), new RecordingContext());
      await adapter.heartbeat(AbortSignal.timeout(5_000));
    }
    expect(await readdir(dir)).toHaveLength(3);
    expect(logins() - before).toBe(1);
  });

  it("an aborted upload reports a retriable failure, publishes nothing, and the next send reconnects", async () => {
    const adapter = adapterFor();
    const body = Buffer.alloc(64 * 1024 * 1024, 0x41);
    const batch = makeBatch({ sequence: 20, body });
    const name = adapter.batchName(batch);
    await adapter.heartbeat(AbortSignal.timeout(5_000));
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("shutting down")), 20);

    const error = await caught(adapter.send(resend(batch, name), new RecordingContext(controller.signal)));

    expect(error).toMatchObject({ failure: "retriable", reason: "aborted" });
    expect(await readdir(dir)).not.toContain(name);
    const small = makeBatch({ sequence: 21 });
    await adapter.send(resend(small, adapter.batchName(small)), new RecordingContext());
    expect(await readdir(dir)).toContain("permit_20250412_000021.txt");
  });
});

describe("sftp adapter, append", () => {
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

  it("a crash between the append and the ledger update does not duplicate rows", async () => {
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

  it("a retry that finds the file at the saved offset appends", async () => {
    const adapter = adapterFor(append);
    await writeFile(join(dir, "permits_20250412.csv"), "0,EARLIER\r\n");
    const batch = makeBatch({ sequence: 6, rows: ["6,DENIED"] });

    await adapter.send(resend(batch, "permits_20250412.csv", { offset: 11 }), new RecordingContext());

    expect(await readFile(join(dir, "permits_20250412.csv"), "utf8")).toBe("0,EARLIER\r\n6,DENIED\r\n");
  });

  it("a file whose size matches neither expectation needs attention and is left alone", async () => {
    const adapter = adapterFor(append);
    await writeFile(join(dir, "permits_20250412.csv"), "0,EARLIER\r\n6,DEN");
    const batch = makeBatch({ sequence: 6, rows: ["6,DENIED"] });

    const error = await caught(
      adapter.send(resend(batch, "permits_20250412.csv", { offset: 11 }), new RecordingContext()),
    );

    expect(error).toMatchObject({ failure: "attention", reason: "append_offset_mismatch" });
    expect(error.message).toMatch(/expected 11 bytes .* or 21 bytes .* found 16 bytes/);
    expect(await readFile(join(dir, "permits_20250412.csv"), "utf8")).toBe("0,EARLIER\r\n6,DEN");
  });
});

describe("sftp adapter failures", () => {
  it("a missing remote directory needs attention", async () => {
    const adapter = adapterFor({ dir: `${dir}/missing` });
    const batch = makeBatch({ sequence: 1 });

    const beat = await caught(adapter.heartbeat(AbortSignal.timeout(5_000)));
    const sent = await caught(adapter.send(resend(batch, adapter.batchName(batch)), new RecordingContext()));

    expect(beat).toMatchObject({ failure: "attention", reason: "no_such_directory" });
    expect(sent).toMatchObject({ failure: "attention", reason: "no_such_directory" });
    expect(sent.message).toContain(`${dir}/missing`);
  });

  it("a drop directory that is a file needs attention", async () => {
    await writeFile(join(dir, "plain"), "x");
    const adapter = adapterFor({ dir: `${dir}/plain` });
    const beat = await caught(adapter.heartbeat(AbortSignal.timeout(5_000)));
    expect(beat).toMatchObject({ failure: "attention", reason: "not_a_directory" });
  });
});
