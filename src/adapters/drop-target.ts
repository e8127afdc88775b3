// The few file operations a drop needs, implemented once over SFTP and once over a local directory.
import { AdapterError, type AdapterErrorOptions } from "./adapter.js";

/** The operation a drop target was doing when it failed, for messages and logs. */
export type DropOperation = "connect" | "check-dir" | "stat" | "write" | "append" | "rename" | "unlink" | "list";

/** A regular file in the drop directory and when it was last written. */
export interface DropEntry {
  readonly name: string;
  readonly modifiedAt: Date;
}

/**
 * A classified drop failure that also says where it happened. It is an AdapterError, so the
 * delivery engine handles it like any other partner failure.
 */
export interface DropTargetErrorOptions extends Omit<AdapterErrorOptions, "retryAfterMs"> {
  readonly operation: DropOperation;
  /** The remote or local path concerned. */
  readonly path: string;
  /** The underlying code: an errno name ("EACCES") or an SFTP status number. */
  readonly code?: string | number | undefined;
}

export class DropTargetError extends AdapterError {
  readonly operation: DropOperation;
  readonly path: string;
  readonly code: string | number | undefined;
  constructor(message: string, options: DropTargetErrorOptions) {
    super(message, options);
    this.operation = options.operation;
    this.path = options.path;
    this.code = options.code;
  }
}

/**
 * One drop directory. Every name is a plain file name inside that directory (see drop-naming.ts).
 * Each method resolves only once its effect is durable on the target (fsync where the target
 * offers it), and rejects with a DropTargetError.
 */
export interface DropTarget {
  /** The full path of a name, as receipts and messages show it. */
  pathOf(name: string): string;
  /** Throws unless the directory exists and is a directory. */
  checkDir(signal: AbortSignal): Promise<void>;
  /** Size in bytes of a regular file, or undefined when there is no file of that name. */
  size(name: string, signal: AbortSignal): Promise<number | undefined>;
  /** Creates or truncates `name` and writes `body`. */
  write(name: string, body: Buffer, signal: AbortSignal): Promise<void>;
  /** Writes `body` at byte `position` of `name` (created when missing): an append at a known end. */
  append(name: string, body: Buffer, position: number, signal: AbortSignal): Promise<void>;
  /** Renames `from` to `to`, atomically replacing an existing `to`. */
  rename(from: string, to: string, signal: AbortSignal): Promise<void>;
  /** Removes `name`; a missing file is not an error. */
  unlink(name: string, signal: AbortSignal): Promise<void>;
  /** The regular files of the directory (for rotation). */
  list(signal: AbortSignal): Promise<readonly DropEntry[]>;
}

/** The error for an AbortSignal that fired: retriable, the batch was not reported as sent. */
export function abortedError(operation: DropOperation, path: string, signal: AbortSignal): DropTargetError {
  return new DropTargetError(`${operation} ${path} was aborted`, {
    failure: "retriable",
    reason: "aborted",
    operation,
    path,
    cause: signal.reason,
  });
}

export function throwIfAborted(operation: DropOperation, path: string, signal: AbortSignal): void {
  if (signal.aborted) throw abortedError(operation, path, signal);
}
