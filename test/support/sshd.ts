// Starts a real OpenSSH sshd on a free loopback port with its own host key, client keys and drop directory.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { constants } from "node:fs";
import { access, chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./free-port.js";

const run = promisify(execFile);

const SSHD = process.env.ESS_TEST_SSHD ?? "/usr/sbin/sshd";
const SSH_KEYGEN = process.env.ESS_TEST_SSH_KEYGEN ?? "ssh-keygen";
const INSTALL_HINT = "install openssh-server (Debian/Ubuntu: apt-get install openssh-server)";
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

export interface SshServer {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  /** Unencrypted OpenSSH private key authorised on the server. */
  readonly privateKey: string;
  /** A second authorised key, encrypted with `passphrase`. */
  readonly encryptedKey: { readonly privateKey: string; readonly passphrase: string };
  /** The server's host key fingerprint as `ssh-keygen -lf` prints it ("SHA256:…"). */
  readonly hostKey: string;
  /** The fingerprint of a host key this server does not have (for pinning tests). */
  readonly otherHostKey: string;
  /** An empty directory for drops; its path is the same on the server and locally. */
  readonly dropDir: string;
  /** Starts the daemon again after stop(), on the same port with the same keys. */
  start(): Promise<void>;
  /** Stops the daemon and every session it forked, as a host going down would. */
  stop(): Promise<void>;
  /**
   * Kills every connection's session process but keeps the daemon listening, as a server-side
   * idle timeout or a restart of the partner's SFTP service would. Resolves right after the kill,
   * before the client can have noticed.
   */
  dropConnections(): Promise<void>;
  /** stop() and removes every file of this server. */
  dispose(): Promise<void>;
  /** The daemon's recent log lines (stderr), for failure messages. */
  log(): string;
}

async function requireTools(): Promise<void> {
  try {
    await access(SSHD, constants.X_OK);
  } catch {
    throw new Error(`the SFTP tests need OpenSSH's server at ${SSHD}, which is missing: ${INSTALL_HINT}`);
  }
  try {
    await run(SSH_KEYGEN, ["-?"]).catch((error: { code?: unknown }) => {
      if (error.code === "ENOENT") throw error;
    });
  } catch {
    throw new Error(`the SFTP tests need ${SSH_KEYGEN}, which is missing: ${INSTALL_HINT}`);
  }
}

async function generateKey(path: string, passphrase = ""): Promise<void> {
  await run(SSH_KEYGEN, ["-q", "-t", "ed25519", "-N", passphrase, "-C", "ess-test", "-f", path]);
}

/** "256 SHA256:abc… comment (ED25519)" → "SHA256:abc…" */
async function fingerprint(publicKeyPath: string): Promise<string> {
  const { stdout } = await run(SSH_KEYGEN, ["-lf", publicKeyPath]);
  const found = stdout.split(/\s+/).find((part) => part.startsWith("SHA256:"));
  if (!found) throw new Error(`ssh-keygen -lf ${publicKeyPath} printed no SHA256 fingerprint: ${stdout}`);
  return found;
}

/** Every process below `pid` (sshd forks one process per connection, which outlives a killed daemon). */
async function descendants(pid: number): Promise<number[]> {
  const parents = new Map<number, number[]>();
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, "utf8");
      // Field 4 (ppid) follows the command name, which is in parentheses and may contain spaces.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
    } catch {
      // The process ended while the table was read: it needs no stopping.
    }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of parents.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

async function waitForBanner(port: number, daemon: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (daemon.exitCode !== null || daemon.signalCode !== null) {
      throw new Error(`sshd exited during start-up (${daemon.exitCode ?? daemon.signalCode}):\n${log()}`);
    }
    const banner = await new Promise<string>((resolve) => {
      const socket = connect({ host: "127.0.0.1", port });
      const done = (text: string): void => {
        socket.destroy();
        resolve(text);
      };
      socket.setTimeout(1_000, () => done(""));
      socket.once("data", (data) => done(data.toString("latin1")));
      socket.once("error", () => done(""));
    });
    if (banner.startsWith("SSH-2.0")) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`sshd did not answer on 127.0.0.1:${port} within ${START_TIMEOUT_MS} ms:\n${log()}`);
}

export async function startSshd(): Promise<SshServer> {
  await requireTools();
  const isRoot = process.getuid?.() === 0;
  if (isRoot) {
    // The privilege separation directory; the distribution's service unit normally creates it.
    await mkdir("/run/sshd", { recursive: true, mode: 0o755 });
  }
  const root = await mkdtemp(join(tmpdir(), "ess-sshd-"));
  const dropDir = join(root, "drop");
  await mkdir(dropDir);
  await chmod(root, 0o755);
  const hostKeyPath = join(root, "ssh_host_ed25519_key");
  const clientKeyPath = join(root, "client_ed25519");
  const encryptedKeyPath = join(root, "client_encrypted_ed25519");
  const otherHostKeyPath = join(root, "other_host_ed25519_key");
  const passphrase = "correct horse battery staple";
  await Promise.all([
    generateKey(hostKeyPath),
    generateKey(clientKeyPath),
    generateKey(encryptedKeyPath, passphrase),
    generateKey(otherHostKeyPath),
  ]);
  const authorized = [
    await readFile(`${clientKeyPath}.pub`, "utf8"),
    await readFile(`${encryptedKeyPath}.pub`, "utf8"),
  ];
  await writeFile(join(root, "authorized_keys"), authorized.join(""), { mode: 0o644 });
  const port = await freePort();
  const username = userInfo().username;
  const config = [
    `Port ${port}`,
    "ListenAddress 127.0.0.1",
    `HostKey ${hostKeyPath}`,
    `PidFile ${join(root, "sshd.pid")}`,
    `AuthorizedKeysFile ${join(root, "authorized_keys")}`,
    "UsePAM no",
    "StrictModes no",
    "PubkeyAuthentication yes",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    isRoot ? "PermitRootLogin prohibit-password" : "",
    "Subsystem sftp internal-sftp",
    "MaxStartups 100",
    "MaxSessions 100",
    "LogLevel VERBOSE",
  ];
  const configPath = join(root, "sshd_config");
  await writeFile(configPath, `${config.filter(Boolean).join("\n")}\n`);

  const lines: string[] = [];
  const log = (): string => lines.join("");
  let daemon: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    if (daemon) throw new Error("sshd is already running");
    const child = spawn(SSHD, ["-D", "-e", "-f", configPath], { stdio: ["ignore", "ignore", "pipe"] });
    child.stderr?.on("data", (data: Buffer) => {
      lines.push(data.toString());
      if (lines.length > 200) lines.shift();
    });
    const spawned = new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", (error) => reject(new Error(`could not run ${SSHD}: ${INSTALL_HINT}`, { cause: error })));
    });
    await spawned;
    daemon = child;
    // A test file that dies without its afterAll must not leave a daemon listening behind it.
    const killOnExit = (): void => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    };
    process.once("exit", killOnExit);
    child.once("exit", () => process.removeListener("exit", killOnExit));
    try {
      await waitForBanner(port, child, log);
    } catch (error) {
      await stop();
      throw error;
    }
  };

  const stop = async (): Promise<void> => {
    const child = daemon;
    if (!child?.pid) return;
    daemon = undefined;
    const exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once("exit", () => resolve());
    });
    const pids = [...(await descendants(child.pid)), child.pid];
    const signalAll = (signal: NodeJS.Signals): void => {
      for (const pid of pids) {
        try {
          process.kill(pid, signal);
        } catch {
          // Already gone.
        }
      }
    };
    signalAll("SIGTERM");
    const timer = setTimeout(() => signalAll("SIGKILL"), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };

  await start();
  return {
    host: "127.0.0.1",
    port,
    username,
    privateKey: await readFile(clientKeyPath, "utf8"),
    encryptedKey: { privateKey: await readFile(encryptedKeyPath, "utf8"), passphrase },
    hostKey: await fingerprint(`${hostKeyPath}.pub`),
    otherHostKey: await fingerprint(`${otherHostKeyPath}.pub`),
    dropDir,
    start,
    stop,
    dropConnections: async () => {
      if (!daemon?.pid) throw new Error("sshd is not running");
      for (const pid of await descendants(daemon.pid)) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // Already gone.
        }
      }
    },
    dispose: async () => {
      await stop();
      await rm(root, { recursive: true, force: true });
    },
    log,
  };
}
