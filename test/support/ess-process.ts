// An `essctl start` child process whose JSON log lines the test can wait for, kill (SIGKILL),
// freeze (SIGSTOP) and cut off its database connections, as the loss of its machine would.
import { type ChildProcess, spawn } from "node:child_process";
import { readdir, readFile, readlink } from "node:fs/promises";
import { createInterface } from "node:readline";
import { ESSCTL_NODE_ARGS } from "./essctl.js";

export interface LogLine {
  readonly msg: string;
  readonly level: number;
  /** When the test read the line (ms since the epoch). */
  readonly seenAt: number;
  readonly [field: string]: unknown;
}

export class EssProcess {
  readonly lines: LogLine[] = [];
  private readonly waiters: { test: (line: LogLine) => boolean; resolve: (line: LogLine) => void }[] = [];
  readonly exited: Promise<void>;

  private constructor(readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
    if (child.stdout) {
      createInterface({ input: child.stdout }).on("line", (text) => {
        let parsed: Record<string, unknown>;
        try {
          parsed = JSON.parse(text) as Record<string, unknown>;
        } catch {
          return;
        }
        const line = { ...parsed, msg: String(parsed.msg ?? ""), level: Number(parsed.level), seenAt: Date.now() };
        this.lines.push(line);
        for (const waiter of [...this.waiters]) {
          if (waiter.test(line)) {
            this.waiters.splice(this.waiters.indexOf(waiter), 1);
            waiter.resolve(line);
          }
        }
      });
    }
  }

  static start(configPath: string, args: readonly string[] = [], env: NodeJS.ProcessEnv = {}): EssProcess {
    const child = spawn(
      process.execPath,
      [...ESSCTL_NODE_ARGS, "start", "--config", configPath, "--lease-timeout", "1s", ...args],
      { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ESS_LOG_LEVEL: "info", ...env } },
    );
    child.stderr?.resume();
    return new EssProcess(child);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The first line (already seen or coming) whose message contains `text`; rejects after `timeoutMs`. */
  waitForLog(text: string, timeoutMs = 30_000, after = 0): Promise<LogLine> {
    const test = (line: LogLine) => line.seenAt >= after && line.msg.includes(text);
    const seen = this.lines.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = { test, resolve };
      this.waiters.push(waiter);
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`pid ${this.pid}: no log line "${text}" within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      void this.exited.then(() => {
        if (!this.waiters.includes(waiter)) return;
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        clearTimeout(timer);
        reject(new Error(`pid ${this.pid} exited before logging "${text}"`));
      });
    });
  }

  count(text: string): number {
    return this.lines.filter((l) => l.msg.includes(text)).length;
  }

  /** The HTTP endpoints' base URL, once listening. */
  async url(): Promise<string> {
    const line = await this.waitForLog("HTTP endpoints listening");
    return String(line.url);
  }

  async kill9(): Promise<void> {
    if (!this.running) return;
    this.child.kill("SIGKILL");
    await this.exited;
  }

  /** Local TCP ports of this process's sockets: its connections as PostgreSQL's client_port shows them. */
  async localPorts(): Promise<number[]> {
    const inodes = new Set<string>();
    for (const fd of await readdir(`/proc/${this.pid}/fd`).catch(() => [])) {
      const target = await readlink(`/proc/${this.pid}/fd/${fd}`).catch(() => "");
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (m?.[1]) inodes.add(m[1]);
    }
    const ports: number[] = [];
    for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
      const text = await readFile(table, "utf8").catch(() => "");
      for (const row of text.split("\n").slice(1)) {
        const cols = row.trim().split(/\s+/);
        const local = cols[1];
        const inode = cols[9];
        if (local && inode && inodes.has(inode)) ports.push(Number.parseInt(local.split(":")[1] ?? "0", 16));
      }
    }
    return ports;
  }
}
