// Authenticates a partner callback or an application request: an HMAC-SHA256 signature over a
// signed timestamp and the raw body (within a tolerance window, each signature accepted once), or
// a bearer token, compared in constant time.
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { InboundAuth } from "../config/types.js";

export const SIGNATURE_HEADER = "x-ess-signature";
export const TIMESTAMP_HEADER = "x-ess-timestamp";
/** How far a signed timestamp may be from this server's clock, either way, unless configured. */
export const DEFAULT_SIGNATURE_TOLERANCE_MS = 5 * 60_000;

export type InboundAuthFailure = "missing" | "invalid" | "no_timestamp" | "stale" | "replayed";

export type InboundAuthResult =
  | { readonly ok: true; readonly method: "hmac" | "bearer" }
  | { readonly ok: false; readonly reason: InboundAuthFailure };

export interface PresentedCredentials {
  /** The X-ESS-Signature header: `sha256=<hex>`. */
  readonly signature?: string | undefined;
  /** The X-ESS-Timestamp header: Unix time in seconds, covered by the signature. */
  readonly timestamp?: string | undefined;
  /** The Authorization header: `Bearer <token>`. */
  readonly authorization?: string | undefined;
}

export interface AuthenticateOptions {
  readonly nowMs?: number;
  /** Signatures seen within the window; a POST passes one so a captured request cannot be replayed. */
  readonly replay?: SignatureReplayGuard;
}

/**
 * `sha256=<hex of HMAC-SHA256("<timestamp>." + body, secret)>`, the value a partner puts in
 * X-ESS-Signature, with the same timestamp (Unix seconds) in X-ESS-Timestamp.
 */
export function inboundSignature(body: Buffer | string, secret: string, timestamp: string | number): string {
  return `sha256=${createHmac("sha256", secret).update(`${timestamp}.`).update(body).digest("hex")}`;
}

/** The two headers of a signed request, timestamped now (what a partner's client sends). */
export function signedHeaders(body: Buffer | string, secret: string, nowMs = Date.now()): Record<string, string> {
  const timestamp = String(Math.floor(nowMs / 1000));
  return { [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: inboundSignature(body, secret, timestamp) };
}

/** What a refused request is told (never which part of a signature was wrong). */
export function inboundAuthMessage(reason: InboundAuthFailure, toleranceMs: number): string {
  switch (reason) {
    case "missing":
      return "authentication required: an X-ESS-Signature with X-ESS-Timestamp, or a bearer token";
    case "no_timestamp":
      return "the X-ESS-Signature must come with an X-ESS-Timestamp (Unix seconds) that it covers";
    case "stale":
      return `the X-ESS-Timestamp is more than ${Math.round(toleranceMs / 1000)} s away from this server's clock`;
    case "replayed":
      return "this signature was already used: sign each request with a fresh timestamp";
    case "invalid":
      return "invalid signature or token";
  }
}

/**
 * Either configured method is enough. A credential that is presented but wrong fails the
 * request even when the other method would have been acceptable: a bad signature is never
 * rescued by an unrelated header.
 */
export function authenticateInbound(
  auth: InboundAuth,
  presented: PresentedCredentials,
  body: Buffer,
  options: AuthenticateOptions = {},
): InboundAuthResult {
  const nowMs = options.nowMs ?? Date.now();
  let method: "hmac" | "bearer" | undefined;
  let presentedAny = false;
  let signature: Buffer | undefined;
  if (auth.hmacSecret !== undefined && presented.signature !== undefined) {
    presentedAny = true;
    const checked = checkSignature(presented, body, auth.hmacSecret, nowMs, toleranceOf(auth));
    if (!checked.ok) return checked;
    method = "hmac";
    signature = checked.digest;
  }
  const bearer = bearerToken(presented.authorization);
  if (auth.bearerToken !== undefined && bearer !== undefined) {
    presentedAny = true;
    if (!sameSecret(bearer, auth.bearerToken)) return { ok: false, reason: "invalid" };
    method ??= "bearer";
  }
  if (!presentedAny || method === undefined) return { ok: false, reason: presentedAny ? "invalid" : "missing" };
  if (signature && options.replay && !options.replay.firstUse(signature, nowMs, toleranceOf(auth))) {
    return { ok: false, reason: "replayed" };
  }
  return { ok: true, method };
}

export function toleranceOf(auth: InboundAuth): number {
  return auth.toleranceMs ?? DEFAULT_SIGNATURE_TOLERANCE_MS;
}

function checkSignature(
  presented: PresentedCredentials,
  body: Buffer,
  secret: string,
  nowMs: number,
  toleranceMs: number,
): { ok: true; digest: Buffer } | { ok: false; reason: InboundAuthFailure } {
  const match = /^sha256=([0-9a-fA-F]{64})$/.exec((presented.signature ?? "").trim());
  if (!match?.[1]) return { ok: false, reason: "invalid" };
  const timestamp = presented.timestamp?.trim();
  if (timestamp === undefined || timestamp === "") return { ok: false, reason: "no_timestamp" };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: "invalid" };
  const given = Buffer.from(match[1], "hex");
  const expected = createHmac("sha256", secret).update(`${timestamp}.`).update(body).digest();
  if (!timingSafeEqual(expected, given)) return { ok: false, reason: "invalid" };
  // Checked after the signature, so an unsigned timestamp tells an attacker nothing.
  if (Math.abs(nowMs - Number(timestamp) * 1000) > toleranceMs) return { ok: false, reason: "stale" };
  return { ok: true, digest: expected };
}

function bearerToken(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** Hashing both sides first makes the comparison independent of the token's length. */
function sameSecret(presented: string, configured: string): boolean {
  const a = createHash("sha256").update(presented).digest();
  const b = createHash("sha256").update(configured).digest();
  return timingSafeEqual(a, b);
}

/**
 * The signatures accepted within the tolerance window: a request captured on the wire and sent
 * again carries a signature already here. Bounded; a signature older than the window cannot
 * pass the timestamp check anyway, so forgetting it loses nothing.
 */
export class SignatureReplayGuard {
  private readonly seen = new Map<string, number>();

  constructor(private readonly maxEntries = 100_000) {}

  /** True the first time a signature is presented within its window. */
  firstUse(signature: Buffer, nowMs: number, toleranceMs: number): boolean {
    const key = signature.toString("base64");
    this.forgetExpired(nowMs);
    if (this.seen.has(key)) return false;
    // Twice the tolerance: the timestamp may lie up to one tolerance ahead of this clock.
    this.seen.set(key, nowMs + 2 * toleranceMs);
    if (this.seen.size > this.maxEntries) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    return true;
  }

  private forgetExpired(nowMs: number): void {
    for (const [key, expires] of this.seen) {
      if (expires > nowMs) break;
      this.seen.delete(key);
    }
  }
}

/** The credentials a request presents: signature and its timestamp, or a bearer token. */
export function presentedCredentials(request: IncomingMessage): PresentedCredentials {
  return {
    signature: header(request, SIGNATURE_HEADER),
    timestamp: header(request, TIMESTAMP_HEADER),
    authorization: header(request, "authorization"),
  };
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
}
