// Credentials written into URLs: found, registered as secrets, and refused where the configuration has a field for them.
import { registerSecret, userInfo } from "./secrets.js";
import type { ValueReader } from "./yaml-reader.js";

/** Query parameters that carry a credential by their name (api_key, apiKey, access_token, sig, …). */
const CREDENTIAL_PARAMETER =
  /^(?:api[-_]?key|apikey|key|access[-_]?token|token|auth|authorization|password|passwd|pwd|secret|client[-_]?secret|signature|sig|sas)$/i;

export interface UrlCredentials {
  /** What the URL carries, for the message: "a user name and password", "the query parameter api_key". */
  readonly found: readonly string[];
  /** The values, registered as secrets so nothing printed later shows them. */
  readonly values: readonly string[];
}

/** Finds and registers every credential the URL carries in its user info or query string. */
export function urlCredentials(text: string): UrlCredentials {
  const found: string[] = [];
  const values: string[] = [];
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    // A malformed URL is reported by whoever reads the value; its user info is still found below.
  }
  // An "@" in a path or query is not user info; only a URL that does not parse is read leniently.
  const info = url
    ? url.username !== ""
      ? { user: url.username, ...(url.password !== "" ? { password: url.password } : {}) }
      : undefined
    : userInfo(text);
  if (info && info.user !== "") {
    found.push(info.password !== undefined ? "a user name and password" : "a user name");
    values.push(info.user, safeDecode(info.user));
    if (info.password !== undefined) values.push(info.password, safeDecode(info.password));
  }
  for (const [name, value] of url?.searchParams ?? []) {
    if (!CREDENTIAL_PARAMETER.test(name)) continue;
    found.push(`the query parameter ${name}`);
    values.push(value);
  }
  for (const value of values) registerSecret(value);
  return { found, values };
}

/** The URL as it may be printed: no user info, no query string except ?wsdl. */
export function urlWithoutCredentials(text: string): string {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)(?:\S*@)?([^/?#\s]*)([^?#\s]*)(\?[^#\s]*)?/.exec(text);
  if (!match) return "a URL";
  const query = /^\?wsdl$/i.test(match[4] ?? "") ? (match[4] ?? "") : match[4] ? "?…" : "";
  return `${match[1]}${match[2]}${match[3]}${query}`;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * A URL is printed in logs and errors (without its query, but not every reader knows that) and
 * sits in files shown to many: credentials belong in the fields kept secret (`authFields`), so a
 * URL carrying them is refused. Returns the URL when it carries none.
 */
export function withoutCredentials(
  value: ValueReader | undefined,
  url: string | undefined,
  authFields: string,
): string | undefined {
  if (value === undefined || url === undefined) return url;
  const credentials = urlCredentials(url);
  if (credentials.found.length === 0) return url;
  return value.fail(
    `the URL carries ${credentials.found.join(" and ")}; credentials go in ${authFields}, never in a URL`,
    {
      expected: "an http(s) URL without credentials",
      found: JSON.stringify(urlWithoutCredentials(url)),
    },
  );
}
