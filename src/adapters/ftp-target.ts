// A drop target on an FTP server: STOR under a temporary name and RNFR/RNTO into place, APPE at a verified end.
import { posix } from "node:path";
import { Readable } from "node:stream";
import type { Client } from "basic-ftp";
import type { Logger } from "../ops/logger.js";
import type { DropEntry, DropTarget } from "./drop-target.js";
import { DropTargetError } from "./drop-target.js";
import type { FtpConnection } from "./ftp-connection.js";
import { ftpReplyCode } from "./ftp-errors.js";

/** 550: "file unavailable" — no such file, or not allowed; the caller tells them apart by asking again. */
const FILE_UNAVAILABLE = 550;

export class FtpDropTarget implements DropTarget {
  private warnedNonAtomicRename = false;

  constructor(
    private readonly connection: FtpConnection,
    readonly dir: string,
    private readonly logger: Logger,
  ) {}

  pathOf(name: string): string {
    return posix.join(this.dir, name);
  }

  async checkDir(signal: AbortSignal): Promise<void> {
    await this.connection.use("check-dir", this.dir, signal, (client) => this.checkDirIn(client));
  }

  /** CWD succeeds only on a directory; a missing one needs an operator, not retries. */
  private async checkDirIn(client: Client): Promise<void> {
    try {
      await client.cd(this.dir);
    } catch (error) {
      if (ftpReplyCode(error) !== FILE_UNAVAILABLE) throw error;
      throw new DropTargetError(`${this.dir} is not a directory on the ftp server (${errorText(error)})`, {
        failure: "attention",
        reason: "no_such_directory",
        operation: "check-dir",
        path: this.dir,
        code: FILE_UNAVAILABLE,
        cause: error,
      });
    }
  }

  async size(name: string, signal: AbortSignal): Promise<number | undefined> {
    const path = this.pathOf(name);
    return await this.connection.use("stat", path, signal, (client) => this.sizeIn(client, path));
  }

  /** SIZE in binary mode (basic-ftp sets TYPE I at login): the byte count, or undefined for no such file. */
  private async sizeIn(client: Client, path: string): Promise<number | undefined> {
    try {
      return await client.size(path);
    } catch (error) {
      if (ftpReplyCode(error) !== FILE_UNAVAILABLE) throw error;
      // A missing file is an answer; a missing directory is not.
      await this.checkDirIn(client);
      return undefined;
    }
  }

  async write(name: string, body: Buffer, signal: AbortSignal): Promise<void> {
    const path = this.pathOf(name);
    await this.connection.use("write", path, signal, async (client) => {
      await client.uploadFrom(Readable.from([body]), path);
    });
  }

  async append(name: string, body: Buffer, position: number, signal: AbortSignal): Promise<void> {
    const path = this.pathOf(name);
    await this.connection.use("append", path, signal, async (client) => {
      // APPE writes at the file's end, which the caller has just found at `position` (ESS is the
      // sole writer). The size is checked again here, on the same connection, right before.
      const before = (await this.sizeIn(client, path)) ?? 0;
      if (before !== position) throw moved(path, position, before);
      await client.appendFrom(Readable.from([body]), path);
      const after = (await this.sizeIn(client, path)) ?? 0;
      if (after !== position + body.length) throw moved(path, position + body.length, after);
    });
  }

  async rename(from: string, to: string, signal: AbortSignal): Promise<void> {
    const source = this.pathOf(from);
    const path = this.pathOf(to);
    await this.connection.use("rename", path, signal, async (client) => {
      try {
        // Most servers rename(2): an existing file is replaced atomically.
        await client.rename(source, path);
      } catch (error) {
        const reply = ftpReplyCode(error);
        if (reply === undefined || reply < 500 || (await this.sizeIn(client, path)) === undefined) throw error;
        // Some servers (IIS) refuse to replace an existing file. A resend then removes the old one
        // first: readers may briefly find no file, but never a partial one.
        if (!this.warnedNonAtomicRename) {
          this.warnedNonAtomicRename = true;
          this.logger.warn({ file: path }, "ftp server refuses to rename over a file; replacing non-atomically");
        }
        await client.remove(path);
        await client.rename(source, path);
      }
    });
  }

  async unlink(name: string, signal: AbortSignal): Promise<void> {
    const path = this.pathOf(name);
    await this.connection.use("unlink", path, signal, async (client) => {
      try {
        await client.remove(path);
      } catch (error) {
        // 550 for a file that is already gone is success; 550 for a file still there is not.
        if (ftpReplyCode(error) !== FILE_UNAVAILABLE || (await this.sizeIn(client, path)) !== undefined) throw error;
      }
    });
  }

  async list(signal: AbortSignal): Promise<readonly DropEntry[]> {
    return await this.connection.use("list", this.dir, signal, async (client) => {
      const entries = (await client.list(this.dir)).filter((entry) => entry.isFile);
      const files: DropEntry[] = [];
      for (const entry of entries) {
        // MLSD gives the time to the second; a LIST line may give only the day, so ask MDTM.
        const modifiedAt = entry.modifiedAt ?? (await client.lastMod(this.pathOf(entry.name)));
        files.push({ name: entry.name, modifiedAt });
      }
      return files;
    });
  }
}

function moved(path: string, expected: number, found: number): DropTargetError {
  return new DropTargetError(
    `append file ${path} has ${found} bytes where ${expected} were expected: another writer changed it; ` +
      "check who else writes to it before resuming",
    { failure: "attention", reason: "append_offset_mismatch", operation: "append", path },
  );
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
