// Validation and quoting of SQL identifiers that come from configuration (schema, slot, publication).
import type { TableRef } from "../change/change.js";

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

/**
 * Always quoted, even plain lower-case names: a table called "user" or "order" is a reserved
 * word unquoted, and a quoted name is never folded, so the statement names exactly the table
 * the mapping names.
 */
export function qualifiedTable(table: TableRef): string {
  return `${quoteIdentifier(table.schema)}.${quoteIdentifier(table.name)}`;
}

/** A name as an operator reads it in a message: bare when plain lower-case, quoted when quoting matters. */
export function identifierLabel(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : quoteIdentifier(name);
}
