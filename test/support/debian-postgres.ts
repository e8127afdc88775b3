// Starts Debian's own PostgreSQL (default 15, the packaged server that has the wal2json plugin)
// in a temporary cluster on a free loopback port with wal_level=logical, and removes it on stop.
// As root the server runs as the 'postgres' system user (created if missing).
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, chown, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import type { PostgresServer, ServerOptions } from "./embedded-server.js";
import { freePort } from "./free-port.js";

export interface DebianPostgresOptions extends ServerOptions {
  /** Major version of the Debian packages (postgresql-<N>, postgresql-<N>-wal2json). */
  readonly version?: number;
  /** Require the wal2json output plugin (default true). */
  readonly wal2json?: boolean;
}

const USER = "postgres";
const PASSWORD = "ess-test";
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 30_000;

/** The Debian cluster's binaries could not be found; the message names the packages to install. */
export class MissingPostgresError extends Error {
  override readonly name = "MissingPostgresError";
}

interface Binaries {
  readonly bindir: string;
  readonly pkglibdir: string;
}

function findBinaries(version: number, wal2json: boolean): Binaries {
  const install = `apt-get install postgresql-${version}${wal2json ? ` postgresql-${version}-wal2json` : ""}`;
  let bindir = `/usr/lib/postgresql/${version}/bin`;
  if (!existsSync(join(bindir, "postgres"))) {
    try {
      bindir = execFileSync("pg_config", ["--bindir"], { encoding: "utf8" }).trim();
    } catch {
      throw new MissingPostgresError(
        `PostgreSQL ${version} server binaries are missing (no /usr/lib/postgresql/${version}/bin, no pg_config): ${install}`,
      );
    }
  }
  for (const tool of ["initdb", "postgres", "pg_config"]) {
    if (!existsSync(join(bindir, tool))) {
      throw new MissingPostgresError(`${join(bindir, tool)} is missing; install the Debian package: ${install}`);
    }
  }
  const versionText = execFileSync(join(bindir, "postgres"), ["--version"], { encoding: "utf8" });
  if (!new RegExp(`\\b${version}\\.`).test(versionText)) {
    throw new MissingPostgresError(`${bindir}/postgres is "${versionText.trim()}", not ${version}: ${install}`);
  }
  const pkglibdir = execFileSync(join(bindir, "pg_config"), ["--pkglibdir"], { encoding: "utf8" }).trim();
  if (wal2json && !existsSync(join(pkglibdir, "wal2json.so"))) {
    throw new MissingPostgresError(
      `the wal2json output plugin is missing (${join(pkglibdir, "wal2json.so")}); install the Debian package postgresql-${version}-wal2json: ${install}`,
    );
  }
  return { bindir, pkglibdir };
}

interface RunAs {
  readonly uid: number;
  readonly gid: number;
}

/** As root, the server must run as an unprivileged user: 'postgres', created when absent. */
function serverUser(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string): number => Number(execFileSync("id", [flag, USER], { encoding: "utf8" }).trim());
  try {
    return { uid: id("-u"), gid: id("-g") };
  } catch {
    execFileSync("useradd", ["--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", USER]);
    return { uid: id("-u"), gid: id("-g") };
  }
}

async function run(command: string, args: readonly string[], runAs: RunAs | undefined): Promise<void> {
  const child = spawn(command, args, {
    stdio: ["ignore", "pipe", "pipe"],
    cwd: tmpdir(),
    ...runAs,
    env: { ...process.env, LC_ALL: "C" },
  });
  let output = "";
  child.stdout?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", resolve);
  });
  if (code !== 0) throw new Error(`${command} ${args.join(" ")} exited with ${code}:\n${output}`);
}

export async function startDebianPostgres(options: DebianPostgresOptions = {}): Promise<PostgresServer> {
  const version = options.version ?? 15;
  const { bindir } = findBinaries(version, options.wal2json ?? true);
  const runAs = serverUser();
  const port = await freePort();
  const root = await mkdtemp(join(tmpdir(), `ess-pg${version}-`));
  const data = join(root, "data");
  const pwfile = join(root, "pwfile");
  // mkdtemp makes the folder 0700 and owned by us; the server user must own its cluster.
  await chmod(root, 0o755);
  if (runAs) await chown(root, runAs.uid, runAs.gid);
  await writeFile(pwfile, PASSWORD, { mode: 0o644 });

  try {
    await run(
      join(bindir, "initdb"),
      ["-D", data, "-U", USER, "--pwfile", pwfile, "--auth=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync"],
      runAs,
    );
  } catch (error) {
    await rm(root, { recursive: true, force: true });
    throw error;
  }

  const settings: Record<string, string> = {
    port: String(port),
    listen_addresses: "127.0.0.1",
    unix_socket_directories: "",
    wal_level: "logical",
    max_replication_slots: "32",
    max_wal_senders: "32",
    fsync: "off",
    full_page_writes: "off",
    synchronous_commit: "off",
    ...options.settings,
  };
  const url = (database = "postgres") => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
  const log: string[] = [];
  let child: ChildProcess | undefined;
  const killOnExit = () => child?.kill("SIGKILL");
  process.once("exit", killOnExit);

  const start = async (): Promise<void> => {
    const args = ["-D", data, ...Object.entries(settings).flatMap(([k, v]) => ["-c", `${k}=${v}`])];
    const server = spawn(join(bindir, "postgres"), args, { stdio: ["ignore", "pipe", "pipe"], cwd: root, ...runAs });
    child = server;
    const keep = (d: Buffer) => {
      log.push(d.toString());
      if (log.length > 200) log.shift();
    };
    server.stdout?.on("data", keep);
    server.stderr?.on("data", keep);
    let exited = false;
    server.once("exit", () => {
      exited = true;
    });
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (exited) throw new Error(`PostgreSQL ${version} exited during start-up:\n${log.join("")}`);
      const client = new pg.Client({ connectionString: url(), connectionTimeoutMillis: 1000 });
      try {
        await client.connect();
        await client.end();
        return;
      } catch {
        await client.end().catch(() => undefined);
        if (Date.now() > deadline) {
          server.kill("SIGKILL");
          throw new Error(`PostgreSQL ${version} did not accept connections on port ${port}:\n${log.join("")}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  };

  const halt = async (mode: "fast" | "immediate" = "fast"): Promise<void> => {
    const server = child;
    if (!server || server.exitCode !== null || server.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => server.once("exit", () => resolve()));
    server.kill(mode === "fast" ? "SIGINT" : "SIGQUIT");
    const timer = setTimeout(() => server.kill("SIGKILL"), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };

  try {
    await start();
  } catch (error) {
    await halt();
    await rm(root, { recursive: true, force: true });
    process.removeListener("exit", killOnExit);
    throw error;
  }

  let stopped = false;
  return {
    port,
    user: USER,
    password: PASSWORD,
    url,
    restart: async () => {
      await halt();
      await start();
    },
    restartImmediately: async () => {
      await halt("immediate");
      await start();
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await halt();
      process.removeListener("exit", killOnExit);
      await rm(root, { recursive: true, force: true });
    },
  };
}
