// Every way `essctl demo` can end early stops its embedded PostgreSQL and removes its files: a
// reader that closes the pipe (`essctl demo | head -3`), and a closed terminal (SIGHUP).
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { waitFor } from "../support/capture-fixture.js";
import { ESSCTL_NODE_ARGS } from "../support/essctl.js";

/** The line naming the demo's data directory: "… data in /tmp/ess-demo-XXXX". */
const DATA_LINE = /data in (\S+)/;

/** Processes whose command line names `path` (the server runs as `postgres -D <path>/…`). */
function processesUsing(path: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (cmdline.includes(path)) found.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

function startDemo(): { child: ChildProcess; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [...ESSCTL_NODE_ARGS, "demo"], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, DATABASE_URL: "" },
  });
  child.stderr?.resume();
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, exited };
}

/** Reads stdout until the data directory line, then calls `then` with the directory. */
async function dataDirectory(child: ChildProcess): Promise<string> {
  let text = "";
  return await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no data directory line in: ${text}`)), 120_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      text += chunk.toString("utf8");
      const match = DATA_LINE.exec(text);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1].replace(/[.,]$/, ""));
      }
    });
  });
}

async function expectNothingLeft(dir: string): Promise<void> {
  await waitFor(`no process using ${dir}`, async () => processesUsing(dir).length === 0, 30_000);
  expect(processesUsing(dir)).toEqual([]);
  expect(existsSync(dir)).toBe(false);
}

describe("essctl demo ended early", () => {
  it("piped into a reader that closes after three lines: no server process and no files left", async () => {
    const { child, exited } = startDemo();
    const dir = await dataDirectory(child);
    expect(processesUsing(dir).length).toBeGreaterThan(0);
    // `| head -3`: the reader goes away; the demo's next write meets a closed pipe.
    child.stdout?.destroy();
    const code = await exited;
    expect(code).not.toBe(null);
    await expectNothingLeft(dir);
  }, 180_000);

  it("on SIGHUP (the terminal closed): no server process and no files left", async () => {
    const { child, exited } = startDemo();
    const dir = await dataDirectory(child);
    expect(processesUsing(dir).length).toBeGreaterThan(0);
    child.kill("SIGHUP");
    const code = await exited;
    expect(code).not.toBe(0);
    await expectNothingLeft(dir);
  }, 180_000);
});
