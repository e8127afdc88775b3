// Validation and quoting of SQL identifiers that come from configuration (schema, slot, publication).

const PLAIN_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

export class InvalidIdentifierError extends Error {
  override readonly name = "InvalidIdentifierError";
  constructor(
    readonly what: string,
    readonly value: string,
  ) {
    super(`${what} ${JSON.stringify(value)} is not a valid name: use lower-case letters, digits and _ (at most 63)`);
  }
}

/** Accepts only plain lower-case names, so they can also be used where PostgreSQL cannot quote (START_REPLICATION options). */
export function assertPlainIdentifier(what: string, value: string): string {
  if (!PLAIN_IDENTIFIER.test(value)) throw new InvalidIdentifierError(what, value);
  return value;
}

export function quoteIdentifier(value: string): string {
  return `"${value.replaceAll('"', '""')}"`;
}

export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
