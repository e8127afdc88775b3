// One reusable FTP control connection per connector: explicit TLS with a verified or pinned certificate, timeouts, one task at a time.
import { readFileSync } from "node:fs";
import { type ConnectionOptions, rootCertificates, TLSSocket } from "node:tls";
import { Client, type FTPContext } from "basic-ftp";
import type { FtpOptions } from "../config/types.js";
import type { Logger } from "../ops/logger.js";
import { abortedError, type DropOperation, DropTargetError, throwIfAborted } from "./drop-target.js";
import { ftpDropError, ftpReplyCode } from "./ftp-errors.js";
import { certificateFingerprint, certificateMatches, formatFingerprint } from "./tls-pin.js";

export interface FtpTimeouts {
  /**
   * basic-ftp's one timeout: the control connection while a command (connecting included) waits for
   * its answer, and a data connection that moves no bytes for this long. Either ends the connection.
   */
  readonly requestMs: number;
}

export const DEFAULT_FTP_TIMEOUTS: FtpTimeouts = { requestMs: 60_000 };

/**
 * Owns the connector's FTP connection: connects on first use, reuses it, and replaces it once it
 * is closed. basic-ftp runs one command at a time per client, so every use waits for the previous
 * one (a delivery, a heartbeat and a rotation may ask at once).
 */
export class FtpConnection {
  private client: Client | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;
  private warnedInsecure = false;

  constructor(
    private readonly connector: string,
    private readonly options: FtpOptions,
    private readonly timeouts: FtpTimeouts,
    private readonly logger: Logger,
  ) {}

  /** "host:port" for messages. */
  get address(): string {
    return `${this.options.host}:${this.options.port}`;
  }

  /**
   * Runs `work` on the live connection, after any work already queued. A reused connection may
   * have died unseen (a restarted server): when work on it fails with connection_lost, it runs once
   * more on a fresh connection. Every drop operation may run twice: a write truncates, an append
   * is checked against the recorded offset first, and a repeated rename or delete fails harmlessly.
   */
  async use<T>(
    operation: DropOperation,
    path: string,
    signal: AbortSignal,
    work: (client: Client) => Promise<T>,
  ): Promise<T> {
    const turn = this.tail.then(() => this.run(operation, path, signal, work));
    this.tail = turn.catch(() => undefined);
    return await turn;
  }

  async close(): Promise<void> {
    this.closed = true;
    // A command in flight fails as the connection closes; its delivery is retried after restart.
    this.client?.close();
    await this.tail;
    this.client?.close();
    this.client = undefined;
  }

  private async run<T>(
    operation: DropOperation,
    path: string,
    signal: AbortSignal,
    work: (client: Client) => Promise<T>,
  ): Promise<T> {
    const reused = this.client !== undefined && !this.client.closed;
    const client = await this.current(signal);
    try {
      return await this.guarded(client, operation, path, signal, () => work(client));
    } catch (error) {
      const stale = reused && error instanceof DropTargetError && error.reason === "connection_lost";
      if (!stale || signal.aborted) throw error;
      this.logger.info({ server: this.address }, "ftp connection found closed; connecting again");
      const fresh = await this.current(signal);
      return await this.guarded(fresh, operation, path, signal, () => work(fresh));
    }
  }

  /** Runs one task; an abort closes the client (its state is unknown mid-command) and rejects at once. */
  private async guarded<T>(
    client: Client,
    operation: DropOperation,
    path: string,
    signal: AbortSignal,
    task: () => Promise<T>,
  ): Promise<T> {
    throwIfAborted(operation, path, signal);
    const onAbort = (): void => client.close();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      return await task();
    } catch (error) {
      throw ftpDropError(error, operation, path, signal);
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  private async current(signal: AbortSignal): Promise<Client> {
    throwIfAborted("connect", this.address, signal);
    if (this.closed) {
      throw new DropTargetError(`ftp connection to ${this.address} is closed`, {
        failure: "retriable",
        reason: "closed",
        operation: "connect",
        path: this.address,
      });
    }
    if (this.client !== undefined && !this.client.closed) return this.client;
    this.client?.close();
    this.client = undefined;
    const client = await this.open(signal);
    this.client = client;
    return client;
  }

  private async open(signal: AbortSignal): Promise<Client> {
    const client = new Client(this.timeouts.requestMs);
    const onAbort = (): void => client.close();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      await client.connect(this.options.host, this.options.port);
      if (this.options.insecure) this.warnInsecure();
      else await this.secure(client);
      await this.login(client);
      await client.useDefaultSettings();
    } catch (error) {
      client.close();
      if (signal.aborted) throw abortedError("connect", this.address, signal);
      throw this.connectError(error);
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
    this.logger.info({ server: this.address, tls: !this.options.insecure }, "ftp connected");
    return client;
  }

  /** AUTH TLS, then the server's identity is checked before the password is sent. */
  private async secure(client: Client): Promise<void> {
    const pin = this.options.certFingerprint;
    try {
      await client.useTLS(this.tlsOptions());
    } catch (error) {
      const reply = ftpReplyCode(error);
      if (reply !== undefined && reply >= 500) {
        // Never fall back to plain FTP: the password would cross the network in clear text.
        throw new DropTargetError(
          `ftp server ${this.address} refused AUTH TLS (${reply}): it offers no TLS, so ESS does not log in ` +
            "(set ftp.insecure: true only for a server on a trusted network that cannot do TLS)",
          {
            failure: "attention",
            reason: "tls_unavailable",
            operation: "connect",
            path: this.address,
            code: reply,
            cause: error,
          },
        );
      }
      throw error;
    }
    if (pin === undefined) return;
    const socket = client.ftp.socket;
    if (!(socket instanceof TLSSocket) || !certificateMatches(socket, pin)) {
      const found = socket instanceof TLSSocket ? certificateFingerprint(socket) : undefined;
      throw new DropTargetError(
        `ftp server ${this.address} presented certificate ${found ? formatFingerprint(found) : "(none)"}, but ` +
          `${formatFingerprint(pin)} is pinned: refusing to log in (update ftp.certFingerprint only after ` +
          "confirming the new certificate with the partner)",
        { failure: "attention", reason: "certificate_mismatch", operation: "connect", path: this.address },
      );
    }
    pinDataConnections(client.ftp, pin);
  }

  private tlsOptions(): ConnectionOptions {
    const base: ConnectionOptions = { host: this.options.host, minVersion: "TLSv1.2" };
    if (this.options.certFingerprint !== undefined) {
      // The pin replaces chain and name verification; it is checked on every connection below.
      return { ...base, rejectUnauthorized: false };
    }
    if (this.options.caFile === undefined) return base;
    return { ...base, ca: [...rootCertificates, readFileSync(this.options.caFile, "utf8")] };
  }

  private async login(client: Client): Promise<void> {
    try {
      await client.login(this.options.username, this.options.password);
    } catch (error) {
      const reply = ftpReplyCode(error);
      // 530 (and 430 on some servers): the credentials were refused. Retrying cannot help until an
      // operator updates the secret; holding the connector keeps batches out of the dead letters.
      if (reply === 530 || reply === 430) {
        throw new DropTargetError(
          `ftp login as ${this.options.username} on ${this.address} was refused (${reply}); check ftp.username and ftp.password`,
          {
            failure: "attention",
            reason: "auth_failed",
            operation: "connect",
            path: this.address,
            code: reply,
            cause: error,
          },
        );
      }
      throw error;
    }
  }

  private connectError(error: unknown): DropTargetError {
    const wrapped = ftpDropError(error, "connect", this.address);
    if (error instanceof DropTargetError) return error;
    const message = `ftp connect to ${this.options.username}@${this.address} failed: ${wrapped.message.replace(/^ftp connect \S+ failed: /, "")}`;
    return new DropTargetError(message, {
      failure: wrapped.failure,
      reason: wrapped.reason,
      operation: "connect",
      path: this.address,
      code: wrapped.code,
      cause: error,
    });
  }

  private warnInsecure(): void {
    if (this.warnedInsecure) return;
    this.warnedInsecure = true;
    this.logger.warn(
      { server: this.address, connector: this.connector },
      "ftp.insecure: plain FTP, the password and every record cross the network unencrypted",
    );
  }
}

/**
 * With a pinned certificate, chain verification is off (rejectUnauthorized: false), so every data
 * connection must show the pinned certificate too: basic-ftp opens them itself with the control
 * connection's TLS options and hands each to FTPContext.dataSocket before any byte is sent (an
 * upload waits for the TLS handshake first). The check runs on that handshake and destroys a data
 * connection that presents another certificate, which fails the transfer.
 */
function pinDataConnections(context: FTPContext, pin: string): void {
  const property = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(context), "dataSocket");
  if (!property?.get || !property.set) throw new Error("basic-ftp's FTPContext has no dataSocket accessor to pin");
  const { get, set } = property;
  Object.defineProperty(context, "dataSocket", {
    configurable: true,
    get() {
      return get.call(context) as unknown;
    },
    set(socket: unknown) {
      if (socket instanceof TLSSocket) {
        socket.once("secureConnect", () => {
          if (!certificateMatches(socket, pin)) {
            socket.destroy(
              Object.assign(new Error("the data connection presented a certificate other than the pinned one"), {
                code: "CERT_UNTRUSTED",
              }),
            );
          }
        });
      }
      set.call(context, socket);
    },
  });
}
