// The test run's output holds results, not log lines: JSON log lines written by a test or forwarded
// from a process it started go to a log file, which a failing test names.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { createLogger } from "../src/ops/logger.js";
import { divertLogLines, testLogFile } from "./support/quiet-logs.js";

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe("log lines in the test run", () => {
  it("leave a stream for the log file, and every other text passes through unchanged", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ess-quiet-logs-"));
    dirs.push(dir);
    const written: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        written.push(chunk.toString("utf8"));
        done();
      },
    });
    const diversion = divertLogLines([stream], join(dir, "logs", "worker.log"));
    let called = false;
    stream.write('{"level":30,"time":1,"msg":"ESS started"}\n', () => {
      called = true;
    });
    stream.write(Buffer.from(" ✓ a result line\n"));
    stream.write('progress 1/2\n{"level":40,"time":2,"msg":"connector offline"}\nprogress 2/2\n');
    await new Promise((resolve) => setImmediate(resolve));

    expect(written).toEqual([" ✓ a result line\n", "progress 1/2\nprogress 2/2\n"]);
    expect(called).toBe(true);
    expect(await readFile(diversion.file, "utf8")).toBe(
      '{"level":30,"time":1,"msg":"ESS started"}\n{"level":40,"time":2,"msg":"connector offline"}\n',
    );
    expect(diversion.since(0)).toHaveLength(2);
  });

  it("are diverted in every test file: an in-process logger and a child's forwarded lines land in the worker's log file", async () => {
    const marker = randomBytes(6).toString("hex");
    createLogger({ level: "info", destination: process.stdout }).info({ marker }, "from an in-process logger");
    const { stdout } = await promisify(execFile)(process.execPath, [
      "-e",
      `process.stdout.write(JSON.stringify({ level: 50, time: 1, marker: "${marker}", msg: "from a child process" }) + "\\n")`,
    ]);
    process.stderr.write(stdout);
    await new Promise((resolve) => setTimeout(resolve, 50));

    const log = await readFile(testLogFile(), "utf8");
    const lines = log.split("\n").filter((line) => line.includes(marker));
    expect(lines.map((line) => JSON.parse(line).msg)).toEqual(["from an in-process logger", "from a child process"]);
  });
});
