// Finds deliveries by token or correlation id through one hash index (migration 000010). A token
// is 'ess1-' and 40 hex digits; its correlation id is 'ess-' and the first 24 of them, so both
// carry those 24 characters, and the index is built on them.
import { type Expression, type RawBuilder, sql } from "kysely";

const TOKEN_PREFIX = "ess1-";
const CORRELATION_PREFIX = "ess-";
const SHARED_LENGTH = 24;

/** What the index holds for a stored token, whatever its form: tokenPartOf() computed in JavaScript. */
export function indexedPartOf(token: string): string {
  return token.slice(TOKEN_PREFIX.length, TOKEN_PREFIX.length + SHARED_LENGTH);
}

/** A token's correlation id: partners echo it in callbacks, and captured deliveries do not store it. */
export function correlationIdOf(token: string): string {
  return `${CORRELATION_PREFIX}${indexedPartOf(token)}`;
}

/** The indexed part of what a partner or operator quoted; null when it can be neither a token nor a correlation id. */
export function sharedTokenPart(quoted: string): string | null {
  const start = quoted.startsWith(TOKEN_PREFIX)
    ? TOKEN_PREFIX.length
    : quoted.startsWith(CORRELATION_PREFIX)
      ? CORRELATION_PREFIX.length
      : -1;
  if (start < 0 || quoted.length < start + SHARED_LENGTH) return null;
  return quoted.slice(start, start + SHARED_LENGTH);
}

/** The index's expression over a token column: compare it with sharedTokenPart() for the index to be used. */
export function tokenPartOf(token: Expression<string> | RawBuilder<unknown>): RawBuilder<string> {
  return sql<string>`substr(${token}, ${sql.lit(TOKEN_PREFIX.length + 1)}, ${sql.lit(SHARED_LENGTH)})`;
}
