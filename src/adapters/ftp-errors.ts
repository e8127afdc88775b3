// Sorts FTP failures into retriable and attention, by FTP reply code, TLS verification code and errno.
import type { FailureClass } from "./adapter.js";
import { abortedError, type DropOperation, DropTargetError } from "./drop-target.js";

interface Classification {
  readonly failure: FailureClass;
  readonly reason: string;
}

/** The reply code of an FTP error answer (basic-ftp's FTPError), or undefined for socket and TLS errors. */
export function ftpReplyCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : undefined;
}

/** Node's codes for a certificate that did not verify (chain, expiry, name). */
const TLS_VERIFY_CODES = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_REVOKED",
  "CERT_UNTRUSTED",
  "CERT_SIGNATURE_FAILURE",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

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
 * A reply code or socket failure of an operation on a logged-in connection. 4xx replies are
 * transient by definition (RFC 959); 5xx replies to file operations are usually a permission or a
 * full disk, which an operator may fix while the retry policy waits. 530 (not logged in) mid-session
 * means the account was disabled: attention, like a failed login.
 */
export function classifyFtpFailure(error: unknown): Classification {
  const reply = ftpReplyCode(error);
  if (reply === 530) return { failure: "attention", reason: "auth_failed" };
  if (reply !== undefined) return { failure: "retriable", reason: `ftp_${reply}` };
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string") {
    if (TLS_VERIFY_CODES.has(code)) return { failure: "attention", reason: "tls_untrusted" };
    return { failure: "retriable", reason: NETWORK_REASONS[code] ?? "connection_lost" };
  }
  const message = error instanceof Error ? error.message : String(error);
  if (/timeout/i.test(message)) return { failure: "retriable", reason: "timeout" };
  // basic-ftp closes the client on any socket failure ("Server closed connection unexpectedly", "Client is closed").
  return { failure: "retriable", reason: "connection_lost" };
}

/** Wraps a basic-ftp or socket error into a DropTargetError naming the operation and the path. */
export function ftpDropError(
  error: unknown,
  operation: DropOperation,
  path: string,
  signal?: AbortSignal,
): DropTargetError {
  if (error instanceof DropTargetError) return error;
  if (signal?.aborted) return abortedError(operation, path, signal);
  const { failure, reason } = classifyFtpFailure(error);
  const detail = error instanceof Error ? error.message : String(error);
  return new DropTargetError(`ftp ${operation} ${path} failed: ${detail}`, {
    failure,
    reason,
    operation,
    path,
    code: ftpReplyCode(error),
    cause: error,
  });
}
