// Serves SFTP v3 file requests (stat, open, write, close, rename, remove, realpath) from one local
// directory that the client sees as "/": enough for a partner's drop box, and nothing outside it.
import type { Stats } from "node:fs";
import { type FileHandle, open, rename, stat, unlink } from "node:fs/promises";
import { join, posix } from "node:path";
import ssh2, { type Attributes, type SFTPWrapper } from "ssh2";

const { STATUS_CODE, flagsToString } = ssh2.utils.sftp;

/** Answers one session's requests; files are closed when the session ends. */
export function serveSftpFiles(sftp: SFTPWrapper, root: string, onError: (error: unknown) => void): void {
  const handles = new Map<number, FileHandle>();
  let nextHandle = 1;
  const local = (path: string): string => join(root, posix.resolve("/", path));
  const handleOf = (raw: Buffer): FileHandle | undefined =>
    raw.length === 4 ? handles.get(raw.readUInt32BE(0)) : undefined;

  /** Runs one request; a failed file operation becomes the SFTP status its errno maps to. */
  const answer = (reqId: number, work: () => Promise<void>): void => {
    work()
      .catch((error: unknown) => {
        sftp.status(reqId, statusOf(error), error instanceof Error ? error.message : String(error));
      })
      // The answer itself failed (the client went away mid-request): the server records it.
      .catch(onError);
  };

  sftp.on("REALPATH", (reqId, path) => {
    const resolved = posix.resolve("/", path);
    sftp.name(reqId, [{ filename: resolved, longname: resolved, attrs: {} as Attributes }]);
  });
  for (const event of ["STAT", "LSTAT"] as const) {
    sftp.on(event, (reqId: number, path: string) =>
      answer(reqId, async () => sftp.attrs(reqId, attributes(await stat(local(path))))),
    );
  }
  sftp.on("FSTAT", (reqId, raw) =>
    answer(reqId, async () => {
      const file = handleOf(raw);
      if (!file) return sftp.status(reqId, STATUS_CODE.FAILURE, "unknown handle");
      sftp.attrs(reqId, attributes(await file.stat()));
    }),
  );
  sftp.on("OPEN", (reqId, path, flags) =>
    answer(reqId, async () => {
      const mode = flagsToString(flags);
      if (!mode) return sftp.status(reqId, STATUS_CODE.FAILURE, `unsupported open flags ${flags}`);
      const file = await open(local(path), mode, 0o644);
      const id = nextHandle++;
      handles.set(id, file);
      const raw = Buffer.alloc(4);
      raw.writeUInt32BE(id, 0);
      sftp.handle(reqId, raw);
    }),
  );
  sftp.on("WRITE", (reqId, raw, offset, data) =>
    answer(reqId, async () => {
      const file = handleOf(raw);
      if (!file) return sftp.status(reqId, STATUS_CODE.FAILURE, "unknown handle");
      await file.write(data, 0, data.length, offset);
      sftp.status(reqId, STATUS_CODE.OK);
    }),
  );
  sftp.on("CLOSE", (reqId, raw) =>
    answer(reqId, async () => {
      const file = handleOf(raw);
      if (!file) return sftp.status(reqId, STATUS_CODE.FAILURE, "unknown handle");
      handles.delete(raw.readUInt32BE(0));
      await file.close();
      sftp.status(reqId, STATUS_CODE.OK);
    }),
  );
  sftp.on("REMOVE", (reqId, path) =>
    answer(reqId, async () => {
      await unlink(local(path));
      sftp.status(reqId, STATUS_CODE.OK);
    }),
  );
  sftp.on("RENAME", (reqId, from, to) =>
    answer(reqId, async () => {
      // SFTP v3 rename must not replace an existing file (posix-rename@openssh.com would).
      const existing = await stat(local(to)).catch(() => undefined);
      if (existing) return sftp.status(reqId, STATUS_CODE.FAILURE, `${to} exists`);
      await rename(local(from), local(to));
      sftp.status(reqId, STATUS_CODE.OK);
    }),
  );
  sftp.on("close", () => {
    for (const file of handles.values()) file.close().catch(onError);
    handles.clear();
  });
}

function attributes(info: Stats): Attributes {
  return {
    mode: info.mode,
    uid: info.uid,
    gid: info.gid,
    size: info.size,
    atime: Math.floor(info.atimeMs / 1000),
    mtime: Math.floor(info.mtimeMs / 1000),
  };
}

function statusOf(error: unknown): number {
  switch ((error as NodeJS.ErrnoException).code) {
    case "ENOENT":
    case "ENOTDIR":
      return STATUS_CODE.NO_SUCH_FILE;
    case "EACCES":
    case "EPERM":
      return STATUS_CODE.PERMISSION_DENIED;
    default:
      return STATUS_CODE.FAILURE;
  }
}
