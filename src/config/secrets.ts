// The process-wide registry of secret values read from configuration, and the redaction of any text that might hold them.

const registered = new Set<string>();
let pattern: RegExp | undefined;

/**
 * Values shorter than this are not registered: redacting "ess" or "app" everywhere would mangle
 * schema and connector names in every message, and such a value protects nothing anyway.
 */
export const MIN_SECRET_LENGTH = 4;

const WORD_CHAR = /[A-Za-z0-9_]/;

/** Remembers a secret (and its URL-encoded form) so every later `redactSecrets` hides it. */
export function registerSecret(value: string): void {
  for (const candidate of [value, value.trim(), encodeURIComponent(value)]) {
    if (candidate.length >= MIN_SECRET_LENGTH && !registered.has(candidate)) {
      registered.add(candidate);
      pattern = undefined;
    }
  }
}

/** How many distinct secrets are registered (for tests and diagnostics; never the values). */
export function registeredSecretCount(): number {
  return registered.size;
}

/**
 * Replaces every registered secret in `text` with `***`. A secret that starts or ends with a
 * letter, digit or underscore is only replaced where it is not glued to another such character,
 * so a user name like "county" does not eat the "county" of "county_scheduler".
 */
export function redactSecrets(text: string): string {
  if (registered.size === 0) return text;
  pattern ??= buildPattern();
  return text.replace(pattern, "***");
}

/** Hides the password of every database or HTTP URL in `text` (`postgres://ess:***@db/hms`), then any registered secret. */
export function redactUrl(text: string): string {
  const hidden = text
    .replace(/(\b[A-Za-z][A-Za-z0-9+.-]*:\/\/[^:@/?#\s]*):[^@/?#\s]*@/g, "$1:***@")
    .replace(/([?&](?:password|passphrase|sslpassword|token)=)[^&#\s]*/gi, "$1***");
  return redactSecrets(hidden);
}

/** The password embedded in a URL's user info, if any (so it can be registered as a secret). */
export function urlPassword(text: string): string | undefined {
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(text)) return undefined;
  try {
    const url = new URL(text);
    const password = url.password !== "" ? decodeURIComponent(url.password) : undefined;
    return password ?? url.searchParams.get("password") ?? undefined;
  } catch {
    // Not a parseable URL: whoever reads the value reports that; there is no password to find.
    return undefined;
  }
}

function buildPattern(): RegExp {
  const alternatives = [...registered]
    .sort((a, b) => b.length - a.length)
    .map((secret) => {
      const escaped = secret.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      const before = WORD_CHAR.test(secret[0] ?? "") ? "(?<![A-Za-z0-9_])" : "";
      const after = WORD_CHAR.test(secret.at(-1) ?? "") ? "(?![A-Za-z0-9_])" : "";
      return `${before}${escaped}${after}`;
    });
  return new RegExp(alternatives.join("|"), "g");
}
