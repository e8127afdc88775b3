// A drop target on an SFTP server: pipelined uploads, fsync@openssh.com and posix-rename@openssh.com where offered.
import { posix } from "node:path";
import type { FileEntry, Stats } from "ssh2";
import type { Logger } from "../ops/logger.js";
import {
  abortedError,
  type DropEntry,
  type DropOperation,
  type DropTarget,
  DropTargetError,
  throwIfAborted,
} from "./drop-target.js";
import type { SftpConnection, SftpSession } from "./sftp-connection.js";
import { SFTP_STATUS } from "./sftp-errors.js";

/** Bytes per SFTP WRITE request; 32 KiB fits every server's packet limit (OpenSSH allows 256 KiB). */
const CHUNK_BYTES = 32 * 1024;
/** WRITE requests in flight at once, as ssh2's fastPut does: throughput without waiting on each round trip. */
const CONCURRENCY = 64;

/** SFTP v3 open flags (SSH_FXF_*). */
const FXF_WRITE = 0x02;
const FXF_CREAT = 0x08;
const FXF_TRUNC = 0x10;

export class SftpDropTarget implements DropTarget {
  private warnedNoFsync = false;

  constructor(
    private readonly connection: SftpConnection,
    readonly dir: string,
    private readonly logger: Logger,
  ) {}

  pathOf(name: string): string {
    return posix.join(this.dir, name);
  }

  async checkDir(signal: AbortSignal): Promise<void> {
    const info = await this.connection.use(signal, (session) =>
      session.call<Stats>("check-dir", this.dir, signal, (sftp, cb) => sftp.stat(this.dir, cb)),
    );
    if (!info.isDirectory()) {
      throw new DropTargetError(`${this.dir} is not a directory`, {
        failure: "attention",
        reason: "not_a_directory",
        operation: "check-dir",
        path: this.dir,
      });
    }
  }

  async size(name: string, signal: AbortSignal): Promise<number | undefined> {
    const path = this.pathOf(name);
    try {
      const info = await this.connection.use(signal, (session) =>
        session.call<Stats>("stat", path, signal, (sftp, cb) => sftp.stat(path, cb)),
      );
      if (!info.isFile()) {
        throw new DropTargetError(`${path} is not a regular file`, {
          failure: "attention",
          reason: "not_a_file",
          operation: "stat",
          path,
        });
      }
      return info.size;
    } catch (error) {
      if (!(error instanceof DropTargetError) || error.code !== SFTP_STATUS.NO_SUCH_FILE) throw error;
      // A missing file is an answer; a missing directory is not.
      await this.checkDir(signal);
      return undefined;
    }
  }

  async write(name: string, body: Buffer, signal: AbortSignal): Promise<void> {
    await this.upload("write", this.pathOf(name), FXF_WRITE | FXF_CREAT | FXF_TRUNC, body, 0, signal);
  }

  async append(name: string, body: Buffer, position: number, signal: AbortSignal): Promise<void> {
    // Written at the verified end rather than with SSH_FXF_APPEND, so the bytes land exactly at
    // the offset recorded in the ledger.
    await this.upload("append", this.pathOf(name), FXF_WRITE | FXF_CREAT, body, position, signal);
  }

  async rename(from: string, to: string, signal: AbortSignal): Promise<void> {
    const source = this.pathOf(from);
    const path = this.pathOf(to);
    await this.connection.use(signal, (session) => this.renameIn(session, source, path, signal));
  }

  private async renameIn(session: SftpSession, source: string, path: string, signal: AbortSignal): Promise<void> {
    try {
      // POSIX rename(2) on the server: replaces an existing file atomically.
      await session.call<void>("rename", path, signal, (sftp, cb) => sftp.ext_openssh_rename(source, path, cb));
    } catch (error) {
      if (!(error instanceof DropTargetError) || error.reason !== "sftp_unsupported") throw error;
      // Plain SFTP v3 rename refuses an existing target. Without the extension, a resend removes
      // the old file first: readers may briefly find no file, but never a partial one.
      this.logger.warn(
        { server: this.connection.address },
        "server lacks posix-rename@openssh.com; replacing non-atomically",
      );
      await this.unlinkIn(session, path, signal);
      await session.call<void>("rename", path, signal, (sftp, cb) => sftp.rename(source, path, cb));
    }
  }

  async list(signal: AbortSignal): Promise<readonly DropEntry[]> {
    const entries = await this.connection.use(signal, (session) =>
      session.call<FileEntry[]>("list", this.dir, signal, (sftp, cb) => sftp.readdir(this.dir, cb)),
    );
    // S_IFREG: only regular files are drop files.
    return entries
      .filter((entry) => (entry.attrs.mode & 0o170000) === 0o100000)
      .map((entry) => ({ name: entry.filename, modifiedAt: new Date(entry.attrs.mtime * 1000) }));
  }

  async unlink(name: string, signal: AbortSignal): Promise<void> {
    await this.connection.use(signal, (session) => this.unlinkIn(session, this.pathOf(name), signal));
  }

  private async unlinkIn(session: SftpSession, path: string, signal: AbortSignal): Promise<void> {
    try {
      await session.call<void>("unlink", path, signal, (sftp, cb) => sftp.unlink(path, cb));
    } catch (error) {
      if (!(error instanceof DropTargetError) || error.code !== SFTP_STATUS.NO_SUCH_FILE) throw error;
    }
  }

  private async upload(
    operation: DropOperation,
    path: string,
    flags: number,
    body: Buffer,
    position: number,
    signal: AbortSignal,
  ): Promise<void> {
    await this.connection.use(signal, (session) =>
      this.uploadIn(session, operation, path, flags, body, position, signal),
    );
  }

  private async uploadIn(
    session: SftpSession,
    operation: DropOperation,
    path: string,
    flags: number,
    body: Buffer,
    position: number,
    signal: AbortSignal,
  ): Promise<void> {
    const handle = await session.call<Buffer>(operation, path, signal, (sftp, cb) => sftp.open(path, flags, cb));
    try {
      await writePipelined(session, operation, path, handle, body, position, signal);
      await this.fsync(session, operation, path, handle, signal);
    } catch (error) {
      if (session.alive) {
        await session
          .call<void>(operation, path, undefined, (sftp, cb) => sftp.close(handle, cb))
          .catch((closeError) => {
            this.logger.debug({ err: closeError, file: path }, "could not close the handle of a failed upload");
          });
      }
      throw error;
    }
    // A close error after writes is real: some servers report a failed write only here.
    await session.call<void>(operation, path, undefined, (sftp, cb) => sftp.close(handle, cb));
  }

  /** Asks the server to flush the file to disk before it is renamed into place or reported as sent. */
  private async fsync(
    session: SftpSession,
    operation: DropOperation,
    path: string,
    handle: Buffer,
    signal: AbortSignal,
  ): Promise<void> {
    try {
      await session.call<unknown>(operation, path, signal, (sftp, cb) => sftp.ext_openssh_fsync(handle, cb));
    } catch (error) {
      if (!(error instanceof DropTargetError) || error.reason !== "sftp_unsupported") throw error;
      if (!this.warnedNoFsync) {
        this.warnedNoFsync = true;
        this.logger.warn(
          { server: this.connection.address },
          "server lacks fsync@openssh.com; durability is the server's",
        );
      }
    }
  }
}

/**
 * Sends the body as CHUNK_BYTES WRITE requests, CONCURRENCY at a time; stops at the first failure.
 * One abort listener serves the whole upload: it ends the session, which fails every pending write.
 */
async function writePipelined(
  session: SftpSession,
  operation: DropOperation,
  path: string,
  handle: Buffer,
  body: Buffer,
  position: number,
  signal: AbortSignal,
): Promise<void> {
  throwIfAborted(operation, path, signal);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < body.length) {
      const start = next;
      const length = Math.min(CHUNK_BYTES, body.length - start);
      next += length;
      try {
        await session.call<void>(operation, path, undefined, (sftp, cb) =>
          sftp.write(handle, body, start, length, position + start, cb),
        );
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const onAbort = (): void => session.end(`${operation} aborted`);
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    const workers = Math.min(CONCURRENCY, Math.ceil(body.length / CHUNK_BYTES));
    const results = await Promise.allSettled(Array.from({ length: workers }, worker));
    const reasons = results.flatMap((result) => (result.status === "rejected" ? [result.reason as unknown] : []));
    if (reasons.length === 0) return;
    if (signal.aborted) throw abortedError(operation, path, signal);
    // A timed-out write ends the session, failing its siblings as connection_lost: report the cause.
    throw reasons.find((reason) => reason instanceof DropTargetError && reason.reason === "timeout") ?? reasons[0];
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}
