// `essctl start` as a child process for the fault tests: started from source, killed with
// SIGKILL, and watched for the marker a fault point prints as it fires.
import { type ChildProcess, spawn } from "node:child_process";
import { ESSCTL_NODE_ARGS } from "../support/essctl.js";
import { FAULT_FIRED, faultEnv } from "../support/fault-arming.js";

export interface EssProcessOptions {
  readonly configPath: string;
  /** Fault points to arm (see src/fault-points.ts), or none. */
  readonly faults?: string;
  /** Deliver only: another process captures. */
  readonly noCapture?: boolean;
  readonly leaseTimeout?: string;
}

export class EssProcess {
  readonly child: ChildProcess;
  /** The fault point that fired in this process, once its marker was printed. */
  firedPoint: string | undefined;
  readonly exited: Promise<void>;
  /** Resolves true once the process logged "ESS started", false if it exited before. */
  readonly started: Promise<boolean>;
  private stderrTail = "";

  constructor(options: EssProcessOptions) {
    const args = [...ESSCTL_NODE_ARGS, "start", "--config", options.configPath];
    args.push("--lease-timeout", options.leaseTimeout ?? "1s");
    if (options.noCapture) args.push("--no-capture");
    this.child = spawn(process.execPath, args, {
      stdio: ["ignore", "pipe", "pipe"],
      // info, for the start-up line; what follows is read and dropped.
      env: { ...process.env, ESS_LOG_LEVEL: "info", ...(options.faults ? faultEnv(options.faults) : {}) },
    });
    let markStarted: (started: boolean) => void = () => undefined;
    this.started = new Promise((resolve) => {
      markStarted = resolve;
    });
    let seen = "";
    let isStarted = false;
    this.child.stdout?.on("data", (chunk: Buffer) => {
      if (isStarted) return;
      seen = (seen + chunk.toString()).slice(-2000);
      if (seen.includes('"msg":"ESS started"')) {
        isStarted = true;
        markStarted(true);
      }
    });
    this.child.stderr?.on("data", (chunk: Buffer) => {
      const text = chunk.toString();
      this.stderrTail = (this.stderrTail + text).slice(-4000);
      const fired = FAULT_FIRED.exec(text);
      if (fired) this.firedPoint = fired[1];
    });
    this.exited = new Promise((resolve) => this.child.once("exit", () => resolve()));
    void this.exited.then(() => markStarted(false));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last lines the process wrote to stderr (for failure messages). */
  get stderr(): string {
    return this.stderrTail;
  }

  async kill9(): Promise<void> {
    if (!this.running) return;
    this.child.kill("SIGKILL");
    await this.exited;
  }

  /** Graceful stop (SIGTERM); SIGKILL if it takes longer than `ms`. */
  async stop(ms = 15_000): Promise<void> {
    if (!this.running) return;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), ms);
    await this.exited;
    clearTimeout(timer);
  }

  /** Resolves true when the process died at its armed fault point within `ms`. */
  async diedAtFaultPoint(ms: number): Promise<boolean> {
    const timer = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), ms).unref());
    const outcome = await Promise.race([this.exited.then(() => "exited" as const), timer]);
    return outcome === "exited" && this.child.signalCode === "SIGKILL" && this.firedPoint !== undefined;
  }
}
