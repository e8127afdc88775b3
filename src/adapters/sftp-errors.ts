// Sorts SFTP failures into retriable and attention, by SFTP status code, ssh2 error level and errno.
import type { FailureClass } from "./adapter.js";
import { type DropOperation, DropTargetError } from "./drop-target.js";

interface Classification {
  readonly failure: FailureClass;
  readonly reason: string;
}

/** SFTP v3 status codes (draft-ietf-secsh-filexfer-02 §7) that a request can fail with. */
export const SFTP_STATUS = {
  NO_SUCH_FILE: 2,
  PERMISSION_DENIED: 3,
  FAILURE: 4,
  BAD_MESSAGE: 5,
  NO_CONNECTION: 6,
  CONNECTION_LOST: 7,
  OP_UNSUPPORTED: 8,
} as const;

/**
 * OpenSSH's sftp-server maps ENOENT to NO_SUCH_FILE, EACCES/EPERM to PERMISSION_DENIED and most
 * other errno values (ENOSPC included) to the generic FAILURE, which therefore stays retriable.
 */
export function classifySftpStatus(code: number | undefined, operation: DropOperation): Classification {
  switch (code) {
    case SFTP_STATUS.NO_SUCH_FILE:
      // Opening a file for writing fails this way only when its directory is missing; a rename
      // fails this way when the temp file disappeared, which the next attempt repairs.
      return operation === "rename"
        ? { failure: "retriable", reason: "file_vanished" }
        : { failure: "attention", reason: "no_such_directory" };
    case SFTP_STATUS.PERMISSION_DENIED:
      return { failure: "retriable", reason: "permission_denied" };
    case SFTP_STATUS.FAILURE:
      return { failure: "retriable", reason: "sftp_failure" };
    case SFTP_STATUS.BAD_MESSAGE:
      return { failure: "attention", reason: "sftp_bad_message" };
    case SFTP_STATUS.OP_UNSUPPORTED:
      return { failure: "attention", reason: "sftp_unsupported" };
    default:
      // NO_CONNECTION, CONNECTION_LOST, and ssh2's own "No response from server" (no code) when
      // the channel closes under a pending request.
      return { failure: "retriable", reason: "connection_lost" };
  }
}

/** Wraps an ssh2 SFTP request error into a DropTargetError naming the operation and the path. */
export function sftpDropError(error: unknown, operation: DropOperation, path: string): DropTargetError {
  if (error instanceof DropTargetError) return error;
  const raw = (error as { code?: unknown } | null)?.code;
  const code = typeof raw === "number" ? raw : undefined;
  const { failure, reason } = classifySftpStatus(code, operation);
  const detail = error instanceof Error ? error.message : String(error);
  return new DropTargetError(`sftp ${operation} ${path} failed: ${detail}`, {
    failure,
    reason,
    operation,
    path,
    code,
    cause: error,
  });
}

/** What went wrong while connecting, as far as ssh2 tells. */
export interface ConnectFailure {
  /** The error the connect promise rejected with. */
  readonly error: unknown;
  /** The raw error ssh2 emitted (it carries `level` and `code`; the promise's error may be a rewrap). */
  readonly emitted?: Error | undefined;
  /** The fingerprint the server presented when it did not match the pin. */
  readonly refusedHostKey?: string | undefined;
}

const NETWORK_REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection_refused",
  ENOTFOUND: "host_not_found",
  EAI_AGAIN: "host_not_found",
  ETIMEDOUT: "timeout",
  ECONNRESET: "connection_lost",
  EPIPE: "connection_lost",
  EHOSTUNREACH: "network_unreachable",
  ENETUNREACH: "network_unreachable",
};

/**
 * Host key and credential problems are "attention", not "permanent": nothing about the batches is
 * wrong, and retrying cannot help until an operator updates the pin or the secret. Holding the
 * connector keeps thousands of deliveries out of the dead letters after a password rotation or a
 * partner's server rebuild; a changed host key may also be an attack, which a person must judge.
 * Network failures are retriable.
 */
export function classifyConnectFailure(failure: ConnectFailure): Classification {
  if (failure.refusedHostKey !== undefined) return { failure: "attention", reason: "host_key_mismatch" };
  const emitted = failure.emitted as (Error & { level?: unknown; code?: unknown }) | undefined;
  const error = failure.error as (Error & { level?: unknown; code?: unknown }) | undefined;
  if (emitted?.level === "client-authentication") return { failure: "attention", reason: "auth_failed" };
  // ssh2 throws this synchronously from connect() for an unreadable key or a wrong passphrase.
  if (typeof error?.message === "string" && /privateKey/.test(error.message)) {
    return { failure: "attention", reason: "invalid_private_key" };
  }
  if (emitted?.level === "client-timeout") return { failure: "retriable", reason: "timeout" };
  const code = typeof emitted?.code === "string" ? emitted.code : typeof error?.code === "string" ? error.code : "";
  return { failure: "retriable", reason: NETWORK_REASONS[code] ?? "connect_failed" };
}
