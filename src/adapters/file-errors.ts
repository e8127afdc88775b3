// Sorts local file system errors (by errno code, never by message) into retriable and attention failures.
import type { FailureClass } from "./adapter.js";
import { type DropOperation, DropTargetError } from "./drop-target.js";

interface Classification {
  readonly failure: FailureClass;
  readonly reason: string;
}

/**
 * Permission problems are retriable: an operator fixes the mount or the mode and the retry goes
 * through. A missing directory or a path that is not one is "attention": the connector is
 * pointed at the wrong place and every batch would fail the same way.
 */
const BY_CODE: Readonly<Record<string, Classification>> = {
  EACCES: { failure: "retriable", reason: "permission_denied" },
  EPERM: { failure: "retriable", reason: "permission_denied" },
  EROFS: { failure: "retriable", reason: "read_only_filesystem" },
  ENOSPC: { failure: "retriable", reason: "no_space" },
  EDQUOT: { failure: "retriable", reason: "no_space" },
  ENOENT: { failure: "attention", reason: "no_such_directory" },
  ENOTDIR: { failure: "attention", reason: "not_a_directory" },
  EISDIR: { failure: "attention", reason: "not_a_file" },
  ELOOP: { failure: "attention", reason: "not_a_directory" },
  ENAMETOOLONG: { failure: "attention", reason: "name_too_long" },
};

/** The errno name of a Node.js system error, if it is one. */
export function errnoCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

export function classifyFsError(code: string | undefined, operation: DropOperation): Classification {
  // The temp file was there a moment ago: someone removed it, the next attempt writes it again.
  if (code === "ENOENT" && operation === "rename") return { failure: "retriable", reason: "file_vanished" };
  return (code && BY_CODE[code]) || { failure: "retriable", reason: "io_error" };
}

/** Wraps a file system error into a DropTargetError that names the operation and the path. */
export function fsDropError(error: unknown, operation: DropOperation, path: string): DropTargetError {
  if (error instanceof DropTargetError) return error;
  const code = errnoCode(error);
  const { failure, reason } = classifyFsError(code, operation);
  const detail = error instanceof Error ? error.message : String(error);
  return new DropTargetError(`${operation} ${path} failed: ${detail}`, {
    failure,
    reason,
    operation,
    path,
    code,
    cause: error,
  });
}
