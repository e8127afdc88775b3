// Makes a streaming standby of an embedded primary without pg_basebackup (the embedded binaries do
// not ship it): the low-level backup API — pg_backup_start(), a copy of the data directory,
// pg_backup_stop() and its backup label — then standby.signal, a physical slot and slot
// synchronisation settings, and starts the standby as a hot standby on a free port.
import { chmod, copyFile, lchown, mkdir, mkdtemp, readdir, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { type EmbeddedServer, launchEmbeddedPostgres, PASSWORD, USER } from "./embedded-server.js";

export interface StandbyOptions {
  /** The physical slot the standby streams through (created on the primary). */
  readonly physicalSlot: string;
  /** The database the slot sync worker connects to (`dbname` in primary_conninfo); null leaves it out. */
  readonly syncDatabase?: string | null;
  readonly settings?: Readonly<Record<string, string>>;
}

export interface StandbyServer extends EmbeddedServer {
  /** `pg_promote()`: ends recovery; resolves once the server accepts writes. */
  promote(): Promise<void>;
}

/** Directories whose contents a base backup leaves out (the directories themselves are kept). */
const EMPTIED = new Set([
  "pg_wal",
  "pg_replslot",
  "pg_dynshmem",
  "pg_notify",
  "pg_serial",
  "pg_snapshots",
  "pg_stat_tmp",
  "pg_subtrans",
]);
/** Files a base backup leaves out: the running server's, and a previous backup's. */
const SKIPPED_FILES = new Set(["postmaster.pid", "postmaster.opts", "backup_label", "tablespace_map"]);

export async function startStreamingStandby(primary: EmbeddedServer, options: StandbyOptions): Promise<StandbyServer> {
  const root = await mkdtemp(join(tmpdir(), "ess-pg-standby-"));
  await chmod(root, 0o755);
  const dataDir = join(root, "data");
  const client = new pg.Client({ connectionString: primary.url() });
  client.on("error", () => undefined);
  await client.connect();
  try {
    // The slot first: it keeps the WAL from the backup's start until the standby has streamed it.
    await client.query("select pg_create_physical_replication_slot($1, true)", [options.physicalSlot]);
    // One session from start to stop, as the non-exclusive low-level API requires.
    await client.query("select pg_backup_start('ess streaming standby', true)");
    await copyDataDirectory(primary.dataDir, dataDir);
    const stopped = await client.query<{ labelfile: string; spcmapfile: string | null }>(
      "select labelfile, spcmapfile from pg_backup_stop(false)",
    );
    const row = stopped.rows[0];
    if (!row) throw new Error("pg_backup_stop returned no row");
    await writeFile(join(dataDir, "backup_label"), row.labelfile, { mode: 0o600 });
    if (row.spcmapfile) await writeFile(join(dataDir, "tablespace_map"), row.spcmapfile, { mode: 0o600 });
    await writeFile(join(dataDir, "standby.signal"), "", { mode: 0o600 });
  } finally {
    await client.end().catch(() => undefined);
  }
  const owner = await stat(primary.dataDir);
  await chownTree(dataDir, owner.uid, owner.gid);
  const conninfo = [
    "host=127.0.0.1",
    `port=${primary.port}`,
    `user=${USER}`,
    `password=${PASSWORD}`,
    options.syncDatabase === null ? "" : `dbname=${options.syncDatabase ?? "postgres"}`,
    "application_name=ess_standby",
  ]
    .filter((part) => part !== "")
    .join(" ");
  const server = await launchEmbeddedPostgres({
    root,
    initialise: false,
    settings: {
      primary_conninfo: conninfo,
      primary_slot_name: options.physicalSlot,
      hot_standby: "on",
      hot_standby_feedback: "on",
      sync_replication_slots: "on",
      ...options.settings,
    },
  });
  return {
    ...server,
    promote: async () => {
      const promoter = new pg.Client({ connectionString: server.url() });
      promoter.on("error", () => undefined);
      await promoter.connect();
      try {
        const result = await promoter.query<{ promoted: boolean }>("select pg_promote(true, 60) as promoted");
        if (result.rows[0]?.promoted !== true) throw new Error("pg_promote did not finish within 60 s");
      } finally {
        await promoter.end().catch(() => undefined);
      }
    },
  };
}

/** Copies a running cluster's data directory as the low-level backup documentation says. */
async function copyDataDirectory(from: string, to: string): Promise<void> {
  await mkdir(to, { mode: 0o700 });
  await chmod(to, 0o700);
  await copyTree(from, to, true);
}

async function copyTree(from: string, to: string, top: boolean): Promise<void> {
  for (const entry of await readdir(from, { withFileTypes: true }).catch(vanished([]))) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.name.startsWith("pgsql_tmp") || entry.name === "pg_internal.init") continue;
    if (entry.isDirectory()) {
      await mkdir(target, { mode: 0o700 });
      if (top && EMPTIED.has(entry.name)) {
        // The server expects pg_wal/archive_status and pg_wal/summaries to exist.
        if (entry.name === "pg_wal") {
          await mkdir(join(target, "archive_status"), { mode: 0o700 });
          await mkdir(join(target, "summaries"), { mode: 0o700 });
        }
        continue;
      }
      await copyTree(source, target, false);
    } else if (entry.isFile()) {
      if (top && SKIPPED_FILES.has(entry.name)) continue;
      // A file the server removes while we copy (a dropped relation's segment) needs no copy.
      await copyFile(source, target).catch(vanished(undefined));
    }
  }
}

function vanished<T>(fallback: T): (error: NodeJS.ErrnoException) => T {
  return (error) => {
    if (error.code === "ENOENT") return fallback;
    throw error;
  };
}

async function chownTree(path: string, uid: number, gid: number): Promise<void> {
  await lchown(path, uid, gid);
  for (const entry of await readdir(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) await chownTree(child, uid, gid);
    else await lchown(child, uid, gid);
  }
}
