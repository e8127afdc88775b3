// A drop target on a local or mounted directory: every write is fsynced, and so is the directory after a name changes.
import { constants } from "node:fs";
import { access, type FileHandle, open, readdir, rename, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { type DropEntry, type DropOperation, type DropTarget, DropTargetError, throwIfAborted } from "./drop-target.js";
import { fsDropError } from "./file-errors.js";

export class FileDropTarget implements DropTarget {
  constructor(readonly dir: string) {}

  pathOf(name: string): string {
    return join(this.dir, name);
  }

  async checkDir(signal: AbortSignal): Promise<void> {
    await this.run("check-dir", this.dir, signal, async () => {
      const info = await stat(this.dir);
      if (!info.isDirectory()) {
        throw new DropTargetError(`${this.dir} is not a directory`, {
          failure: "attention",
          reason: "not_a_directory",
          operation: "check-dir",
          path: this.dir,
        });
      }
      // Catches a read-only mount or a mode change before a batch fails on it (root passes always).
      await access(this.dir, constants.W_OK);
    });
  }

  async size(name: string, signal: AbortSignal): Promise<number | undefined> {
    const path = this.pathOf(name);
    return await this.run("stat", path, signal, async () => {
      try {
        const info = await stat(path);
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
        if ((error as { code?: unknown }).code !== "ENOENT") throw error;
        // A missing file is an answer; a missing directory is not.
        await this.checkDir(signal);
        return undefined;
      }
    });
  }

  async write(name: string, body: Buffer, signal: AbortSignal): Promise<void> {
    const path = this.pathOf(name);
    await this.run("write", path, signal, async () => {
      await writeDurably("write", path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, body, 0, signal);
    });
  }

  async append(name: string, body: Buffer, position: number, signal: AbortSignal): Promise<void> {
    const path = this.pathOf(name);
    await this.run("append", path, signal, async () => {
      await writeDurably("append", path, constants.O_WRONLY | constants.O_CREAT, body, position, signal);
      // The first append creates the file: its directory entry must survive a crash too.
      await syncDirectory(this.dir);
    });
  }

  async rename(from: string, to: string, signal: AbortSignal): Promise<void> {
    const path = this.pathOf(to);
    await this.run("rename", path, signal, async () => {
      // rename(2) replaces `to` atomically within one file system; fsync of the directory makes
      // the new name durable before the batch is reported as sent.
      await rename(this.pathOf(from), path);
      await syncDirectory(this.dir);
    });
  }

  async unlink(name: string, signal: AbortSignal): Promise<void> {
    const path = this.pathOf(name);
    await this.run("unlink", path, signal, async () => {
      try {
        await unlink(path);
      } catch (error) {
        if ((error as { code?: unknown }).code !== "ENOENT") throw error;
      }
    });
  }

  async list(signal: AbortSignal): Promise<readonly DropEntry[]> {
    return await this.run("list", this.dir, signal, async () => {
      const entries: DropEntry[] = [];
      for (const entry of await readdir(this.dir, { withFileTypes: true })) {
        if (!entry.isFile()) continue;
        const info = await stat(this.pathOf(entry.name)).catch(() => undefined);
        if (info) entries.push({ name: entry.name, modifiedAt: info.mtime });
      }
      return entries;
    });
  }

  private async run<T>(
    operation: DropOperation,
    path: string,
    signal: AbortSignal,
    body: () => Promise<T>,
  ): Promise<T> {
    throwIfAborted(operation, path, signal);
    try {
      return await body();
    } catch (error) {
      throw fsDropError(error, operation, path);
    }
  }
}

/** Largest single write(2): keeps memory flat and lets an abort stop a long write between chunks. */
const WRITE_CHUNK = 4 * 1024 * 1024;

async function writeDurably(
  operation: DropOperation,
  path: string,
  flags: number,
  body: Buffer,
  position: number,
  signal: AbortSignal,
): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, flags);
    let offset = 0;
    while (offset < body.length) {
      throwIfAborted(operation, path, signal);
      const length = Math.min(WRITE_CHUNK, body.length - offset);
      const { bytesWritten } = await handle.write(body, offset, length, position + offset);
      offset += bytesWritten;
    }
    await handle.sync();
  } finally {
    await handle?.close();
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
