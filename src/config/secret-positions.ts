// Which configuration values are credentials, so they are registered for redaction and never echoed in errors.
import type { PathSegment } from "./config-error.js";
import type { ResolvedReference } from "./interpolate.js";
import { registerSecret, urlPassword, userInfo } from "./secrets.js";

const SECRET_SECTIONS = new Set(["security", "headers", "inbound"]);
const SECRET_KEY = /(password|passphrase|secret|token|key)$/i;
/** Keys whose literal values are credentials even when written into the file directly. */
const CREDENTIAL_KEY = /^(password|passphrase|privateKey|secret|token|hmacSecret|bearerToken)$/;

/** Whether a value at `path` is a credential; a host key fingerprint is public, and operators need to read it. */
export function isSecretPath(path: readonly PathSegment[]): boolean {
  const keys = path.filter((segment): segment is string => typeof segment === "string");
  const last = keys.at(-1);
  if (keys.some((key) => SECRET_SECTIONS.has(key))) return true;
  return last !== undefined && last !== "hostKey" && SECRET_KEY.test(last);
}

/**
 * Registers what a value read at `path` reveals: every `${file:}` value; every `${VAR}` value in a
 * credential position (password, token, key, security, headers, inbound…); literal credentials;
 * and the password of any URL. Mappings hold no credentials and only register `${file:}` values.
 */
export function registerSecrets(
  path: readonly PathSegment[],
  holdsSecrets: boolean,
  value: string,
  resolved: readonly ResolvedReference[],
): void {
  const secretPosition = holdsSecrets && isSecretPath(path);
  for (const part of resolved) {
    if (part.kind === "file" || secretPosition) registerSecret(part.value);
  }
  if (!holdsSecrets) return;
  const last = path.at(-1);
  if (typeof last === "string" && CREDENTIAL_KEY.test(last)) registerSecret(value);
  const password = urlPassword(value);
  if (password !== undefined) registerSecret(password);
  // A password with "/" or "#" unencoded is not found by a URL parser; read up to the last "@".
  const written = userInfo(value)?.password;
  if (written !== undefined) registerSecret(written);
}
