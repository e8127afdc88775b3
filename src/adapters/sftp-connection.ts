// One reusable SFTP connection per connector: pinned host key, timeouts, and reconnection after a drop.
import type { SFTPWrapper } from "ssh2";
import SftpClient from "ssh2-sftp-client";
import type { SftpOptions } from "../config/types.js";
import type { Logger } from "../ops/logger.js";
import { abortedError, type DropOperation, DropTargetError, throwIfAborted } from "./drop-target.js";
import { HostKeyPinError, hostKeyFingerprint, hostKeyMatches, parseHostKeyPin } from "./host-key.js";
import { classifyConnectFailure, sftpDropError } from "./sftp-errors.js";

export interface SftpTimeouts {
  /** TCP connect, key exchange and authentication together (ssh2's readyTimeout). */
  readonly connectMs: number;
  /** One SFTP request (open, one write chunk, fsync, rename, stat): a silent server fails here. */
  readonly requestMs: number;
  /** SSH keepalive interval; the connection is dropped after three unanswered probes. */
  readonly keepaliveMs: number;
}

export const DEFAULT_SFTP_TIMEOUTS: SftpTimeouts = { connectMs: 20_000, requestMs: 60_000, keepaliveMs: 15_000 };

type Callback<T> = (error: Error | null | undefined, value?: T) => void;

/** One authenticated SFTP channel; dead once the server, the network or a timeout ended it. */
export class SftpSession {
  private isAlive = true;

  constructor(
    readonly sftp: SFTPWrapper,
    private readonly client: SftpClient,
    private readonly timeouts: SftpTimeouts,
    private readonly logger: Logger,
  ) {
    sftp.on("close", () => this.markDead("the SFTP channel closed"));
    // ssh2 emits "error" on the channel for protocol violations; unhandled, it would crash the process.
    sftp.on("error", (error: Error) => this.markDead(`SFTP channel error: ${error.message}`));
  }

  get alive(): boolean {
    return this.isAlive;
  }

  markDead(why: string): void {
    if (!this.isAlive) return;
    this.isAlive = false;
    this.logger.info({ why }, "sftp connection dropped");
  }

  /** Ends the connection; later requests fail and the owner connects again. */
  end(why: string): void {
    this.markDead(why);
    this.client.end().catch((error: unknown) => {
      this.logger.debug({ err: error }, "sftp connection did not end cleanly");
    });
  }

  /**
   * Runs one SFTP request under the request timeout and the signal. A timeout or an abort ends the
   * connection: the request may still be in flight, so the channel's state is unknown.
   */
  async call<T>(
    operation: DropOperation,
    path: string,
    /** Undefined for requests that must run even after an abort (closing a handle). */
    signal: AbortSignal | undefined,
    run: (sftp: SFTPWrapper, callback: Callback<T>) => void,
  ): Promise<T> {
    if (signal) throwIfAborted(operation, path, signal);
    if (!this.isAlive) {
      // ssh2 silently queues requests on a closed channel; fail fast instead of timing out.
      throw new DropTargetError(`sftp ${operation} ${path}: the connection was lost`, {
        failure: "retriable",
        reason: "connection_lost",
        operation,
        path,
      });
    }
    return await new Promise<T>((resolve, reject) => {
      let settled = false;
      const settle = (act: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        act();
      };
      const timer = setTimeout(() => {
        settle(() => {
          this.end(`${operation} timed out`);
          const message = `sftp ${operation} ${path}: no answer within ${this.timeouts.requestMs} ms`;
          reject(new DropTargetError(message, { failure: "retriable", reason: "timeout", operation, path }));
        });
      }, this.timeouts.requestMs);
      const onAbort = (): void => {
        settle(() => {
          this.end(`${operation} aborted`);
          if (signal) reject(abortedError(operation, path, signal));
        });
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      try {
        run(this.sftp, (error, value) => {
          settle(() => (error ? reject(sftpDropError(error, operation, path)) : resolve(value as T)));
        });
      } catch (error) {
        // ssh2 throws synchronously for an extension the server does not offer.
        const message = `sftp ${operation} ${path}: ${error instanceof Error ? error.message : String(error)}`;
        settle(() =>
          reject(
            new DropTargetError(message, {
              failure: "attention",
              reason: "sftp_unsupported",
              operation,
              path,
              cause: error,
            }),
          ),
        );
      }
    });
  }
}

/** Owns the connector's connection: connects on first use, reuses it, and replaces it once it is dead. */
export class SftpConnection {
  private session: SftpSession | undefined;
  private connecting: Promise<SftpSession> | undefined;
  private closed = false;

  constructor(
    private readonly connector: string,
    private readonly options: SftpOptions,
    private readonly timeouts: SftpTimeouts,
    private readonly logger: Logger,
  ) {}

  /** "host:port" for messages. */
  get address(): string {
    return `${this.options.host}:${this.options.port}`;
  }

  /** The live session, connecting first when there is none. */
  private async current(signal: AbortSignal): Promise<SftpSession> {
    throwIfAborted("connect", this.address, signal);
    if (this.closed) {
      throw new DropTargetError(`sftp connection to ${this.address} is closed`, {
        failure: "retriable",
        reason: "closed",
        operation: "connect",
        path: this.address,
      });
    }
    if (this.session?.alive) return this.session;
    this.connecting ??= this.open().finally(() => {
      this.connecting = undefined;
    });
    const session = await abortable(this.connecting, signal, () => abortedError("connect", this.address, signal));
    return session;
  }

  /**
   * Runs `work` on the live session. A reused connection may have died without its close being
   * seen yet (a restarted server): when work on it fails with connection_lost, the work runs once
   * more on a fresh connection. Every drop operation may run twice: writes are positional and
   * truncating, and a repeated rename or unlink fails harmlessly with a retriable error.
   */
  async use<T>(signal: AbortSignal, work: (session: SftpSession) => Promise<T>): Promise<T> {
    const reused = this.session?.alive === true;
    const session = await this.current(signal);
    try {
      return await work(session);
    } catch (error) {
      const stale = reused && error instanceof DropTargetError && error.reason === "connection_lost";
      if (!stale || signal.aborted) throw error;
      session.markDead("a request found the connection lost");
      return await work(await this.current(signal));
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const pending = this.connecting?.catch(() => undefined);
    const session = this.session ?? (await pending);
    this.session = undefined;
    session?.end("connector closed");
  }

  private async open(): Promise<SftpSession> {
    const pin = this.parsePin();
    // Bound to this connection's own session: a late event of an old connection must not kill a new one.
    let session: SftpSession | undefined;
    const client = new SftpClient(`ess:${this.connector}`, {
      error: (error: unknown) => {
        this.logger.debug({ err: error }, "sftp connection error");
        session?.markDead("connection error");
      },
      end: () => session?.markDead("the server ended the connection"),
      close: () => session?.markDead("the connection closed"),
    });
    let emitted: Error | undefined;
    let refusedHostKey: string | undefined;
    client.on("error", (error: Error) => {
      emitted = error;
    });
    if (this.options.password !== undefined) {
      const password = this.options.password;
      // Servers that only offer keyboard-interactive still ask for the password this way.
      client.on("keyboard-interactive", (...args: unknown[]) => {
        const prompts = args[3] as readonly unknown[];
        const finish = args[4] as (answers: string[]) => void;
        finish(prompts.map(() => password));
      });
    }
    let sftp: SFTPWrapper;
    try {
      sftp = await client.connect({
        host: this.options.host,
        port: this.options.port,
        username: this.options.username,
        privateKey: this.options.privateKey,
        passphrase: this.options.passphrase,
        password: this.options.password,
        tryKeyboard: this.options.password !== undefined,
        readyTimeout: this.timeouts.connectMs,
        keepaliveInterval: this.timeouts.keepaliveMs,
        keepaliveCountMax: 3,
        // Never trust on first use: only the pinned key passes.
        hostVerifier: (key: Buffer) => {
          if (hostKeyMatches(key, pin)) return true;
          refusedHostKey = hostKeyFingerprint(key);
          return false;
        },
      });
    } catch (error) {
      throw this.connectError(error, emitted, refusedHostKey, pin);
    }
    if (this.closed) {
      client.end().catch((error: unknown) => this.logger.debug({ err: error }, "sftp connection did not end cleanly"));
      throw new DropTargetError(`sftp connection to ${this.address} is closed`, {
        failure: "retriable",
        reason: "closed",
        operation: "connect",
        path: this.address,
      });
    }
    this.logger.info({ server: this.address }, "sftp connected");
    session = new SftpSession(sftp, client, this.timeouts, this.logger);
    this.session = session;
    return session;
  }

  private parsePin(): string {
    try {
      return parseHostKeyPin(this.options.hostKey);
    } catch (error) {
      if (!(error instanceof HostKeyPinError)) throw error;
      throw new DropTargetError(error.message, {
        failure: "attention",
        reason: "invalid_host_key_pin",
        operation: "connect",
        path: this.address,
      });
    }
  }

  private connectError(
    error: unknown,
    emitted: Error | undefined,
    refusedHostKey: string | undefined,
    pin: string,
  ): DropTargetError {
    const { failure, reason } = classifyConnectFailure({ error, emitted, refusedHostKey });
    const detail = emitted?.message ?? (error instanceof Error ? error.message : String(error));
    const message =
      refusedHostKey !== undefined
        ? `sftp server ${this.address} presented host key ${refusedHostKey}, but ${pin} is pinned: refusing to ` +
          "connect (update sftp.hostKey only after confirming the new key with the partner)"
        : `sftp connect to ${this.options.username}@${this.address} failed: ${detail}`;
    return new DropTargetError(message, { failure, reason, operation: "connect", path: this.address, cause: error });
  }
}

/** Waits for `promise` unless the signal fires first (the promise itself goes on). */
async function abortable<T>(promise: Promise<T>, signal: AbortSignal, aborted: () => Error): Promise<T> {
  if (signal.aborted) throw aborted();
  return await new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(aborted());
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
