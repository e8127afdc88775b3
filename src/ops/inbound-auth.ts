// Authenticates a partner callback: HMAC-SHA256 of the raw body or a bearer token, compared in constant time.
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { InboundAuth } from "../config/types.js";

export const SIGNATURE_HEADER = "x-ess-signature";

export type InboundAuthResult =
  | { readonly ok: true; readonly method: "hmac" | "bearer" }
  | { readonly ok: false; readonly reason: "missing" | "invalid" };

export interface PresentedCredentials {
  /** The X-ESS-Signature header: `sha256=<hex>`. */
  readonly signature?: string | undefined;
  /** The Authorization header: `Bearer <token>`. */
  readonly authorization?: string | undefined;
}

/** `sha256=<hex of HMAC-SHA256(body, secret)>`, the value a partner puts in X-ESS-Signature. */
export function inboundSignature(body: Buffer | string, secret: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
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
): InboundAuthResult {
  const checks: boolean[] = [];
  let method: "hmac" | "bearer" | undefined;
  if (auth.hmacSecret !== undefined && presented.signature !== undefined) {
    const ok = signatureMatches(presented.signature, body, auth.hmacSecret);
    checks.push(ok);
    if (ok) method = "hmac";
  }
  const bearer = bearerToken(presented.authorization);
  if (auth.bearerToken !== undefined && bearer !== undefined) {
    const ok = sameSecret(bearer, auth.bearerToken);
    checks.push(ok);
    if (ok) method ??= "bearer";
  }
  if (checks.length === 0) return { ok: false, reason: "missing" };
  if (checks.includes(false) || method === undefined) return { ok: false, reason: "invalid" };
  return { ok: true, method };
}

function signatureMatches(header: string, body: Buffer, secret: string): boolean {
  const match = /^sha256=([0-9a-fA-F]{64})$/.exec(header.trim());
  if (!match?.[1]) return false;
  const expected = createHmac("sha256", secret).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(match[1], "hex"));
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
