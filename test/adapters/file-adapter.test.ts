// The file adapter on a real temporary directory: atomic drops, done files, append offsets, failures.
import { execFile } from "node:child_process";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AdapterError } from "../../src/adapters/adapter.js";
import { FileAdapter } from "../../src/adapters/file-adapter.js";
import { silentLogger } from "../../src/ops/logger.js";
import { fileConnector, makeBatch, RecordingContext, resend } from "./drop-fixtures.js";

const logger = silentLogger();
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "ess-file-drop-"));
});

afterEach(async () => {
  await chmod(dir, 0o755).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

async function caught(promise: Promise<unknown>): Promise<AdapterError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(AdapterError);
  return error as AdapterError;
}

describe("file adapter, file-per-batch", () => {
  it("drops the batch body under the rendered name and accepts every item with the file's path", async () => {
    const adapter = new FileAdapter(fileConnector(dir), { logger });
    const batch = makeBatch({ sequence: 42, rows: ["PERMIT0001APPROVED  ", "PERMIT0002DENIED    "] });
    const name = adapter.batchName(batch);
    expect(name).toBe("permit_20250412_000042.txt");

    const outcomes = await adapter.send(resend(batch, name), new RecordingContext());

    const path = join(dir, name);
    expect(outcomes).toEqual([
      { id: "42000", ok: true, reference: path },
      { id: "42001", ok: true, reference: path },
    ]);
    expect(await readFile(path, "utf8")).toBe("PERMIT0001APPROVED  \r\nPERMIT0002DENIED    \r\n");
    expect(await readdir(dir)).toEqual([name]);
  });

  it("writes the done file, holding the data file's name, after the data file", async () => {
    const adapter = new FileAdapter(fileConnector(dir, { doneFile: "{file}.done" }), { logger });
    const batch = makeBatch({ sequence: 1 });
    const name = adapter.batchName(batch);

    await adapter.send(resend(batch, name), new RecordingContext());

    expect((await readdir(dir)).sort()).toEqual([name, `${name}.done`]);
    expect(await readFile(join(dir, `${name}.done`), "utf8")).toBe(`${name}\n`);
    expect(await readFile(join(dir, name))).toEqual(batch.body);
  });

  it("a resend of the same batch, after a crash left a half upload, leaves exactly one complete file", async () => {
    const adapter = new FileAdapter(fileConnector(dir, { doneFile: "{file}.done" }), { logger });
    const batch = makeBatch({ sequence: 7, rows: ["A", "B", "C"] });
    const name = adapter.batchName(batch);
    await adapter.send(resend(batch, name), new RecordingContext());
    await writeFile(join(dir, `${name}.part`), "A\r\nB");

    await adapter.send(resend(batch, name), new RecordingContext());

    expect((await readdir(dir)).sort()).toEqual([name, `${name}.done`]);
    expect(await readFile(join(dir, name), "utf8")).toBe("A\r\nB\r\nC\r\n");
  });

  it("writes in place when no temp suffix is configured", async () => {
    const adapter = new FileAdapter(fileConnector(dir, { tempSuffix: "" }), { logger });
    const batch = makeBatch({ sequence: 3 });
    await adapter.send(resend(batch, adapter.batchName(batch)), new RecordingContext());
    expect(await readdir(dir)).toEqual(["permit_20250412_000003.txt"]);
  });
});

describe("file adapter, append", () => {
  const append = { file: "permits_{date:%Y%m%d}.csv", mode: "append" as const };

  it("appends each batch to the day's file, recording the offset before each append", async () => {
    const adapter = new FileAdapter(fileConnector(dir, append), { logger });
    const first = makeBatch({ sequence: 1, rows: ["1,APPROVED", "2,DENIED"] });
    const second = makeBatch({ sequence: 2, rows: ["3,APPROVED"] });
    const firstContext = new RecordingContext();
    const secondContext = new RecordingContext();

    await adapter.send(resend(first, adapter.batchName(first)), firstContext);
    await adapter.send(resend(second, adapter.batchName(second)), secondContext);

    expect(await readFile(join(dir, "permits_20250412.csv"), "utf8")).toBe("1,APPROVED\r\n2,DENIED\r\n3,APPROVED\r\n");
    expect(firstContext.saved).toEqual([{ offset: 0 }]);
    expect(secondContext.saved).toEqual([{ offset: "1,APPROVED\r\n2,DENIED\r\n".length }]);
  });

  it("a crash between the append and the ledger update does not duplicate rows", async () => {
    const adapter = new FileAdapter(fileConnector(dir, append), { logger });
    await writeFile(join(dir, "permits_20250412.csv"), "0,EARLIER\r\n");
    const batch = makeBatch({ sequence: 5, rows: ["5,APPROVED"] });
    const name = adapter.batchName(batch);
    const firstAttempt = new RecordingContext();
    await adapter.send(resend(batch, name), firstAttempt);

    // The ledger kept the offset but never heard that the append finished: the engine resends.
    const retry = new RecordingContext();
    const outcomes = await adapter.send(resend(batch, name, firstAttempt.state), retry);

    expect(outcomes).toEqual([{ id: "5000", ok: true, reference: join(dir, name) }]);
    expect(await readFile(join(dir, name), "utf8")).toBe("0,EARLIER\r\n5,APPROVED\r\n");
    expect(retry.saved).toEqual([]);
  });

  it("a crash after the offset was saved but before the append appends on the retry", async () => {
    const adapter = new FileAdapter(fileConnector(dir, append), { logger });
    await writeFile(join(dir, "permits_20250412.csv"), "0,EARLIER\r\n");
    const batch = makeBatch({ sequence: 6, rows: ["6,DENIED"] });

    await adapter.send(resend(batch, "permits_20250412.csv", { offset: 11 }), new RecordingContext());

    expect(await readFile(join(dir, "permits_20250412.csv"), "utf8")).toBe("0,EARLIER\r\n6,DENIED\r\n");
  });

  it("creates the file on a retry whose saved offset is 0", async () => {
    const adapter = new FileAdapter(fileConnector(dir, append), { logger });
    const batch = makeBatch({ sequence: 8, rows: ["8,APPROVED"] });
    await adapter.send(resend(batch, "permits_20250412.csv", { offset: 0 }), new RecordingContext());
    expect(await readFile(join(dir, "permits_20250412.csv"), "utf8")).toBe("8,APPROVED\r\n");
  });

  it("a file whose size matches neither expectation stops the connector for an operator", async () => {
    const adapter = new FileAdapter(fileConnector(dir, append), { logger });
    await writeFile(join(dir, "permits_20250412.csv"), "0,EARLIER\r\n1,SOMEONE ELSE\r\n");
    const batch = makeBatch({ sequence: 9, rows: ["9,APPROVED"] });

    const error = await caught(
      adapter.send(resend(batch, "permits_20250412.csv", { offset: 11 }), new RecordingContext()),
    );

    expect(error).toMatchObject({ failure: "attention", reason: "append_offset_mismatch" });
    expect(error.message).toContain("expected 11 bytes");
    expect(error.message).toContain("or 23 bytes");
    expect(error.message).toContain("found 27 bytes");
    expect(await readFile(join(dir, "permits_20250412.csv"), "utf8")).toBe("0,EARLIER\r\n1,SOMEONE ELSE\r\n");
  });
});

describe("file adapter failures", () => {
  it("a missing directory needs attention, for heartbeats and sends alike", async () => {
    const adapter = new FileAdapter(fileConnector(join(dir, "missing")), { logger });
    const batch = makeBatch({ sequence: 1 });

    const beat = await caught(adapter.heartbeat(AbortSignal.timeout(5_000)));
    const sent = await caught(adapter.send(resend(batch, adapter.batchName(batch)), new RecordingContext()));

    expect(beat).toMatchObject({ failure: "attention", reason: "no_such_directory" });
    expect(sent).toMatchObject({ failure: "attention", reason: "no_such_directory" });
    expect(sent.message).toContain(join(dir, "missing"));
  });

  it("a heartbeat on a writable directory succeeds", async () => {
    const adapter = new FileAdapter(fileConnector(dir), { logger });
    await expect(adapter.heartbeat(AbortSignal.timeout(5_000))).resolves.toBeUndefined();
  });

  it("refuses a recorded name that would leave the directory, writing nothing", async () => {
    const inner = join(dir, "inner");
    await mkdir(inner);
    const adapter = new FileAdapter(fileConnector(inner), { logger });

    const error = await caught(
      adapter.send(resend(makeBatch({ sequence: 1 }), "../escaped.txt"), new RecordingContext()),
    );

    expect(error).toMatchObject({ failure: "attention", reason: "invalid_file_name" });
    expect(await readdir(dir)).toEqual(["inner"]);
    expect(await readdir(inner)).toEqual([]);
  });

  it("refuses a template that renders an unsafe name when the batch is named", () => {
    const adapter = new FileAdapter(fileConnector(dir, { file: "{connector}.txt" }), { logger });
    const name = () => adapter.batchName(makeBatch({ sequence: 1, connector: "a/b" }));
    expect(name).toThrow(AdapterError);
    expect(name).toThrow(/path separator/);
  });

  it("an aborted send writes nothing and may be retried", async () => {
    const adapter = new FileAdapter(fileConnector(dir), { logger });
    const batch = makeBatch({ sequence: 1 });
    const controller = new AbortController();
    controller.abort(new Error("shutting down"));

    const error = await caught(
      adapter.send(resend(batch, adapter.batchName(batch)), new RecordingContext(controller.signal)),
    );

    expect(error).toMatchObject({ failure: "retriable", reason: "aborted" });
    expect(await readdir(dir)).toEqual([]);
  });

  it("a directory the service user cannot write to is retriable, for heartbeats and sends", async () => {
    // Root ignores directory modes, so the adapter runs in a child process as 'nobody' when the
    // tests run as root; otherwise the mode alone stops the current user.
    const target = join(dir, "readonly");
    await mkdir(target);
    await chmod(dir, 0o755);
    await chmod(target, 0o555);
    const result = await runAsServiceUser(target);

    expect(result.heartbeat).toMatchObject({ name: "AdapterError", failure: "retriable", reason: "permission_denied" });
    expect(result.send).toMatchObject({ name: "AdapterError", failure: "retriable", reason: "permission_denied" });
    expect(await readdir(target)).toEqual([]);
  });
});

interface ChildOutcome {
  readonly heartbeat: Record<string, unknown>;
  readonly send: Record<string, unknown>;
}

const CHILD_SCRIPT = `
const { FileAdapter } = await import(process.env.ESS_ADAPTER_URL);
const { silentLogger } = await import(process.env.ESS_LOGGER_URL);
const adapter = new FileAdapter(JSON.parse(process.env.ESS_CONNECTOR), { logger: silentLogger() });
const describe = (error) => ({ name: error.name, failure: error.failure, reason: error.reason, message: error.message });
const outcome = async (promise) => promise.then(() => ({ ok: true }), describe);
const body = Buffer.from("PERMIT0001APPROVED\\r\\n");
const batch = { connector: "c", id: "1", sequence: 1, createdAt: new Date(), body, name: "P.TXT",
  items: [{ id: "1", token: "t", correlationId: "c", key: "k", payload: body }] };
const context = { signal: AbortSignal.timeout(10000), saveState: async () => {} };
const heartbeat = await outcome(adapter.heartbeat(AbortSignal.timeout(10000)));
const send = await outcome(adapter.send(batch, context));
process.stdout.write(JSON.stringify({ heartbeat, send }));
`;

async function runAsServiceUser(target: string): Promise<ChildOutcome> {
  const asRoot = process.getuid?.() === 0;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--import", "tsx", "--input-type=module", "-e", CHILD_SCRIPT],
    {
      timeout: 30_000,
      cwd: process.cwd(),
      ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
      env: {
        ...process.env,
        HOME: tmpdir(),
        ESS_ADAPTER_URL: new URL("../../src/adapters/file-adapter.ts", import.meta.url).href,
        ESS_LOGGER_URL: new URL("../../src/ops/logger.ts", import.meta.url).href,
        ESS_CONNECTOR: JSON.stringify(fileConnector(target)),
      },
    },
  );
  return JSON.parse(stdout) as ChildOutcome;
}
