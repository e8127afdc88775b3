// SFTP connections against a real OpenSSH sshd: host key pinning, credentials, timeouts, reconnecting.
import { readdir } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { utils } from "ssh2";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { AdapterError } from "../../src/adapters/adapter.js";
import { SftpAdapter } from "../../src/adapters/sftp-adapter.js";
import type { SftpOptions } from "../../src/config/types.js";
import { silentLogger } from "../../src/ops/logger.js";
import { freePort } from "../support/free-port.js";
import { type SshServer, startSshd } from "../support/sshd.js";
import { makeBatch, RecordingContext, resend, sftpConnector } from "./drop-fixtures.js";

const logger = silentLogger();
let server: SshServer;
const adapters: SftpAdapter[] = [];

beforeAll(async () => {
  server = await startSshd();
});

afterAll(async () => {
  await server?.dispose();
});

afterEach(async () => {
  await Promise.all(adapters.splice(0).map((adapter) => adapter.close()));
});

function adapterFor(overrides: Partial<SftpOptions> = {}): SftpAdapter {
  const adapter = new SftpAdapter(
    sftpConnector({
      host: server.host,
      port: server.port,
      username: server.username,
      privateKey: server.privateKey,
      hostKey: server.hostKey,
      dir: server.dropDir,
      ...overrides,
    }),
    { logger, timeouts: { connectMs: 3_000, requestMs: 5_000 } },
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

async function sendOne(adapter: SftpAdapter, sequence: number): Promise<string> {
  const batch = makeBatch({ sequence });
  const name = adapter.batchName(batch);
  await adapter.send(resend(batch, name), new RecordingContext());
  return name;
}

function logins(): number {
  return server.log().match(/Accepted publickey/g)?.length ?? 0;
}

describe("host key pinning", () => {
  it("accepts the fingerprint exactly as ssh-keygen -lf prints it", async () => {
    await expect(adapterFor().heartbeat(AbortSignal.timeout(5_000))).resolves.toBeUndefined();
  });

  it("refuses a server whose host key is not the pinned one, before sending credentials or data", async () => {
    const adapter = adapterFor({ hostKey: server.otherHostKey });
    const before = logins();
    const files = await readdir(server.dropDir);
    const batch = makeBatch({ sequence: 900 });

    const beat = await caught(adapter.heartbeat(AbortSignal.timeout(5_000)));
    const sent = await caught(adapter.send(resend(batch, adapter.batchName(batch)), new RecordingContext()));

    for (const error of [beat, sent]) {
      expect(error).toMatchObject({ failure: "attention", reason: "host_key_mismatch" });
      expect(error.message).toContain(server.hostKey);
      expect(error.message).toContain(server.otherHostKey);
    }
    expect(logins()).toBe(before);
    expect(await readdir(server.dropDir)).toEqual(files);
  });

  it("an unreadable pin needs attention", async () => {
    const error = await caught(adapterFor({ hostKey: "SHA256:..." }).heartbeat(AbortSignal.timeout(5_000)));
    expect(error).toMatchObject({ failure: "attention", reason: "invalid_host_key_pin" });
  });
});

describe("credentials", () => {
  it("an encrypted key with its passphrase logs in", async () => {
    const adapter = adapterFor({
      privateKey: server.encryptedKey.privateKey,
      passphrase: server.encryptedKey.passphrase,
    });
    const name = await sendOne(adapter, 301);
    expect(await readdir(server.dropDir)).toContain(name);
  });

  it("a wrong passphrase needs attention, not dead letters", async () => {
    const adapter = adapterFor({ privateKey: server.encryptedKey.privateKey, passphrase: "wrong" });
    const error = await caught(adapter.heartbeat(AbortSignal.timeout(5_000)));
    expect(error).toMatchObject({ failure: "attention", reason: "invalid_private_key" });
  });

  it("a key the server does not know (a rotated credential) needs attention, not dead letters", async () => {
    // One ed25519 pair in 256 from generateKeyPairSync cannot be read back (mscdex/ssh2 issue 1390).
    let stranger = utils.generateKeyPairSync("ed25519");
    while (utils.parseKey(stranger.private) instanceof Error) stranger = utils.generateKeyPairSync("ed25519");
    const adapter = adapterFor({ privateKey: stranger.private });
    const error = await caught(adapter.heartbeat(AbortSignal.timeout(5_000)));
    expect(error).toMatchObject({ failure: "attention", reason: "auth_failed" });
    expect(error.message).toContain(`${server.username}@${server.host}:${server.port}`);
  });
});

describe("unreachable servers", () => {
  it("a refused connection is retriable", async () => {
    const port = await freePort();
    const error = await caught(adapterFor({ port }).heartbeat(AbortSignal.timeout(5_000)));
    expect(error).toMatchObject({ failure: "retriable", reason: "connection_refused" });
  });

  it("a server that accepts TCP but never speaks SSH times out, retriably", async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => sockets.push(socket));
    const port = await freePort();
    await new Promise<void>((resolve) => silent.listen(port, "127.0.0.1", resolve));
    try {
      const started = Date.now();
      const error = await caught(adapterFor({ port }).heartbeat(AbortSignal.timeout(10_000)));
      expect(error).toMatchObject({ failure: "retriable", reason: "timeout" });
      expect(Date.now() - started).toBeLessThan(8_000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it("an abort while connecting returns at once", async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => sockets.push(socket));
    const port = await freePort();
    await new Promise<void>((resolve) => silent.listen(port, "127.0.0.1", resolve));
    try {
      const started = Date.now();
      const error = await caught(adapterFor({ port }).heartbeat(AbortSignal.timeout(200)));
      expect(error).toMatchObject({ failure: "retriable", reason: "aborted" });
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

describe("reconnecting", () => {
  it("while sshd is down heartbeats fail; once it is back heartbeats and sends work again", async () => {
    const adapter = adapterFor();
    await sendOne(adapter, 401);

    await server.stop();
    const down = await caught(adapter.heartbeat(AbortSignal.timeout(5_000)));
    const failedSend = await caught(
      adapter.send(resend(makeBatch({ sequence: 402 }), "P402.TXT"), new RecordingContext()),
    );
    await server.start();

    expect(down).toMatchObject({ failure: "retriable", reason: "connection_refused" });
    expect(failedSend.failure).toBe("retriable");
    await adapter.heartbeat(AbortSignal.timeout(5_000));
    const name = await sendOne(adapter, 403);
    expect(await readdir(server.dropDir)).toContain(name);
  });

  it("a connection the server dropped unnoticed is replaced by the next operation", async () => {
    const adapter = adapterFor();
    await sendOne(adapter, 601);
    const before = logins();

    await server.dropConnections();
    await adapter.heartbeat(AbortSignal.timeout(5_000));
    const name = await sendOne(adapter, 602);

    expect(await readdir(server.dropDir)).toContain(name);
    expect(logins() - before).toBe(1);
  });

  it("the first send after an sshd restart succeeds on a new connection", async () => {
    const adapter = adapterFor();
    await sendOne(adapter, 501);
    const before = logins();

    await server.stop();
    await server.start();
    const name = await sendOne(adapter, 502);

    expect(await readdir(server.dropDir)).toContain(name);
    expect(name).toBe("permit_20250412_000502.txt");
    expect(logins() - before).toBe(1);
  });
});
