// Pins a TLS server certificate by its SHA-256 fingerprint, as `openssl x509 -noout -fingerprint -sha256` prints it.
import { timingSafeEqual } from "node:crypto";
import type { TLSSocket } from "node:tls";

/** The certificate's SHA-256 fingerprint as 64 upper-case hex digits, or undefined when none was presented. */
export function certificateFingerprint(socket: TLSSocket): string | undefined {
  const certificate = socket.getPeerCertificate();
  // Node returns an empty object when the peer sent no certificate.
  const text = (certificate as { fingerprint256?: string }).fingerprint256;
  return text === undefined ? undefined : text.replaceAll(":", "").toUpperCase();
}

/** True only when the socket's certificate has the pinned fingerprint (64 hex digits, compared in constant time). */
export function certificateMatches(socket: TLSSocket, pin: string): boolean {
  const actual = Buffer.from(certificateFingerprint(socket) ?? "");
  const expected = Buffer.from(pin);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** "AB:CD:…" as operators compare it with what the partner sent. */
export function formatFingerprint(hex: string): string {
  return hex.replace(/(..)(?!$)/g, "$1:");
}
