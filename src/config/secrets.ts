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
    // Up to the last "@" of the address: a password may hold "/" or "#" unencoded.
    .replace(/(\b[A-Za-z][A-Za-z0-9+.-]*:\/\/[^:@/?#\s"']*):[^\s"']*@/g, "$1:***@")
    .replace(
      /([?&](?:password|passphrase|sslpassword|token|access_token|api[-_]?key|apikey|key|secret|sig|signature)=)[^&#\s"']*/gi,
      "$1***",
    );
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

/**
 * The user info is read up to the LAST "@" of the authority, as an operator meant it: a password
 * holding "/", "#" or "?" unencoded ends the user info early for a URL parser, which then reads a
 * piece of the password as host, port or path. Such a URL is never echoed whole.
 */
export function userInfo(text: string): { readonly user: string; readonly password?: string } | undefined {
  const match = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/(\S*)@[^@\s]*$/.exec(text);
  const info = match?.[1];
  if (info === undefined) return undefined;
  const colon = info.indexOf(":");
  return colon < 0 ? { user: info } : { user: info.slice(0, colon), password: info.slice(colon + 1) };
}

/** True when the password holds a character that ends a URL's user info unless percent-encoded. */
export function passwordNeedsEncoding(text: string): boolean {
  const password = userInfo(text)?.password;
  return password !== undefined && /[/?#@]/.test(password);
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
