// Pins an SSH server's host key by its SHA-256 fingerprint, written the way `ssh-keygen -lf` prints it.
import { createHash, timingSafeEqual } from "node:crypto";

/** A pinned fingerprint that is not of the form "SHA256:<base64 without padding>". */
export class HostKeyPinError extends Error {
  override readonly name = "HostKeyPinError";
  constructor(
    readonly pin: string,
    readonly reason: string,
  ) {
    super(`host key pin ${JSON.stringify(pin)}: ${reason}`);
  }
}

/** SHA-256 of a 32-byte digest in unpadded base64 is always 43 characters. */
const PIN_PATTERN = /^SHA256:([A-Za-z0-9+/]{43})$/;

/**
 * The OpenSSH fingerprint of a raw host key blob (the wire-format public key the server sends
 * during key exchange): "SHA256:" and the base64 of its SHA-256 digest without "=" padding.
 */
export function hostKeyFingerprint(rawKey: Buffer): string {
  return `SHA256:${createHash("sha256").update(rawKey).digest("base64").replace(/=+$/, "")}`;
}

/**
 * Checks and normalises a pin. Accepts surrounding blanks and trailing "=" padding (some tools
 * print it); everything else about the fingerprint, including letter case, must be exact because
 * base64 is case-sensitive.
 */
export function parseHostKeyPin(pin: string): string {
  const trimmed = pin.trim().replace(/=+$/, "");
  if (!trimmed.startsWith("SHA256:")) {
    throw new HostKeyPinError(pin, 'expected "SHA256:<base64>" as printed by `ssh-keygen -lf <host key>.pub`');
  }
  if (!PIN_PATTERN.test(trimmed)) {
    throw new HostKeyPinError(pin, "the SHA256 fingerprint must be 43 base64 characters");
  }
  return trimmed;
}

/** True only when the raw key's fingerprint equals the pin (compared in constant time). */
export function hostKeyMatches(rawKey: Buffer, pin: string): boolean {
  const actual = Buffer.from(hostKeyFingerprint(rawKey));
  const expected = Buffer.from(pin);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
