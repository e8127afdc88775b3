// Classifies HTTP answers and transport errors into retriable or permanent AdapterErrors (shared by rest and soap).
import { AdapterError } from "./adapter.js";

/** Statuses that say "try again later" even though they are 4xx (RFC 9110 408, RFC 8470 425, RFC 6585 429). */
const RETRIABLE_4XX = new Set([408, 425, 429]);

/** Longest partner text quoted in an error message (the ledger and logs keep it). */
const EXCERPT_LENGTH = 200;

/**
 * Milliseconds to wait from a Retry-After value: delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
 * Undefined when absent or unreadable; a date in the past means "now" (0).
 */
export function parseRetryAfter(value: string | null | undefined, now: Date = new Date()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (text === "") return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // All three HTTP-date forms (IMF-fixdate, RFC 850, asctime) start with a day name; Date.parse
  // alone would also accept "-5" or "2024" as dates.
  if (!/^[A-Za-z]{3}/.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now.getTime());
}

/**
 * A short, single-line quote of a partner's response body with every known secret replaced by
 * "***", so a partner that echoes the request (API key included) cannot leak it into the ledger.
 */
export function bodyExcerpt(body: string, secrets: readonly string[] = [], max = EXCERPT_LENGTH): string {
  let text = body;
  for (const secret of secrets) {
    if (secret.length > 0) text = text.split(secret).join("***");
  }
  text = text.replace(/\s+/g, " ").trim();
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

export interface HttpStatusContext {
  /** What was called, for the message (never a URL with credentials in its query). */
  readonly what: string;
  readonly retryAfterMs?: number;
  /** Already excerpted and redacted response text. */
  readonly excerpt?: string;
}

/**
 * The failure an HTTP status stands for, or undefined for 2xx. 408/425/429 and 5xx are retriable
 * (the partner is busy or broken, the token makes a resend safe); redirects and other 4xx are
 * permanent: resending the same request cannot change the answer.
 */
export function classifyHttpStatus(status: number, context: HttpStatusContext): AdapterError | undefined {
  if (status >= 200 && status < 300) return undefined;
  const detail = context.excerpt ? `: ${context.excerpt}` : "";
  const message = `${context.what} answered HTTP ${status}${detail}`;
  const reason = `http_${status}`;
  if (status >= 500 || RETRIABLE_4XX.has(status)) {
    return new AdapterError(message, { failure: "retriable", reason, retryAfterMs: context.retryAfterMs });
  }
  if (status >= 300 && status < 400) {
    // Redirects are not followed: fetch would turn a redirected POST into a GET and drop the body.
    return new AdapterError(`${message} (redirects are not followed; fix the connector's url)`, {
      failure: "permanent",
      reason,
    });
  }
  return new AdapterError(message, { failure: "permanent", reason });
}

/** Error codes (Node, undici, axios, OpenSSL) and the reason label each one gets. */
const TRANSPORT_REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection_refused",
  ECONNRESET: "connection_reset",
  EPIPE: "connection_reset",
  UND_ERR_SOCKET: "connection_reset",
  UND_ERR_CLOSED: "connection_reset",
  ERR_SOCKET_CLOSED: "connection_reset",
  ETIMEDOUT: "timeout",
  ESOCKETTIMEDOUT: "timeout",
  // axios reports its own timeouts as ECONNABORTED.
  ECONNABORTED: "timeout",
  UND_ERR_CONNECT_TIMEOUT: "timeout",
  UND_ERR_HEADERS_TIMEOUT: "timeout",
  UND_ERR_BODY_TIMEOUT: "timeout",
  ENOTFOUND: "dns",
  EAI_AGAIN: "dns",
  EHOSTUNREACH: "unreachable",
  ENETUNREACH: "unreachable",
  ERR_CANCELED: "aborted",
  ABORT_ERR: "aborted",
  CERT_HAS_EXPIRED: "tls",
  DEPTH_ZERO_SELF_SIGNED_CERT: "tls",
  SELF_SIGNED_CERT_IN_CHAIN: "tls",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "tls",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "tls",
  ERR_TLS_CERT_ALTNAME_INVALID: "tls",
};

const NAME_REASONS: Readonly<Record<string, string>> = {
  TimeoutError: "timeout",
  AbortError: "aborted",
  CanceledError: "aborted",
};

/** The first recognised code or name along an error's cause chain (fetch hides the socket error in `cause`). */
function transportReason(error: unknown): { reason: string; code?: string } {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current && typeof current === "object"; depth++) {
    const { code, name } = current as { code?: unknown; name?: unknown };
    if (typeof code === "string" && TRANSPORT_REASONS[code]) return { reason: TRANSPORT_REASONS[code], code };
    if (typeof name === "string" && NAME_REASONS[name]) return { reason: NAME_REASONS[name] };
    const nested = current as { cause?: unknown; errors?: unknown };
    current = nested.cause ?? (Array.isArray(nested.errors) ? nested.errors[0] : undefined);
  }
  return { reason: "network" };
}

/**
 * A transport failure (no HTTP answer): refused, reset, timed out, DNS, TLS. Always retriable,
 * because the request may or may not have reached the partner and the token makes a resend safe.
 */
export function classifyTransportError(error: unknown, what: string): AdapterError {
  if (error instanceof AdapterError) return error;
  const { reason, code } = transportReason(error);
  const text = error instanceof Error ? error.message : String(error);
  const suffix = code && !text.includes(code) ? ` (${code})` : "";
  return new AdapterError(`${what} failed: ${text}${suffix}`, { failure: "retriable", reason, cause: error });
}

/** The failure for a call cut short by our own signals: a timeout or the engine shutting down. */
export function abortedCallError(what: string, timedOut: boolean, timeoutMs: number, cause: unknown): AdapterError {
  if (timedOut) {
    return new AdapterError(`${what} timed out after ${timeoutMs} ms`, {
      failure: "retriable",
      reason: "timeout",
      cause,
    });
  }
  return new AdapterError(`${what} was aborted before an answer arrived`, {
    failure: "retriable",
    reason: "aborted",
    cause,
  });
}
