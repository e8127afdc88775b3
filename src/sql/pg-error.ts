// PostgreSQL failures sorted by what a caller does about them: by SQLSTATE when the server
// answered, by Node's errno when the socket failed, and (only for the client library's own
// connection-loss errors, which carry neither) by the message node-postgres gives them.

/**
 * - connection: the server cannot be reached, restarts, shuts down, or dropped the connection
 * - resources: out of connections, memory or disk (SQLSTATE class 53)
 * - conflict: serialization failure or deadlock; retry the whole transaction
 * - aborted-transaction: the transaction had already failed; roll it back
 * - read-only: a read-only transaction or a standby
 * - permission: the role lacks a privilege
 * - undefined-object: a schema, table or function is missing (an unmigrated ledger)
 * - timeout: statement or lock timeout, or a cancelled statement
 * - object-in-use: e.g. a replication slot active for another process
 * - prerequisite-state: the server is not in the state the request needs (yet)
 * - data: a value the server cannot take (class 22: NUL in text, bad JSON escapes, overflow)
 * - integrity: a constraint violation (class 23)
 * - other: anything else
 */
export type PgFailureKind =
  | "connection"
  | "resources"
  | "conflict"
  | "aborted-transaction"
  | "read-only"
  | "permission"
  | "undefined-object"
  | "timeout"
  | "object-in-use"
  | "prerequisite-state"
  | "data"
  | "integrity"
  | "other";

export interface PgFailure {
  readonly kind: PgFailureKind;
  /** The SQLSTATE the server sent, or Node's errno code for a socket failure. */
  readonly code?: string;
}

const BY_SQLSTATE: ReadonlyArray<readonly [RegExp, PgFailureKind]> = [
  [/^08/, "connection"],
  [/^57P0[1-4]$/, "connection"],
  [/^53/, "resources"],
  [/^(40001|40P01)$/, "conflict"],
  [/^25P02$/, "aborted-transaction"],
  [/^25006$/, "read-only"],
  [/^42501$/, "permission"],
  [/^(42P01|3F000|42883|42704)$/, "undefined-object"],
  [/^(57014|55P03)$/, "timeout"],
  [/^55006$/, "object-in-use"],
  [/^55000$/, "prerequisite-state"],
  [/^22/, "data"],
  [/^23/, "integrity"],
];

const SOCKET_ERRNO =
  /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EPIPE|EAI_AGAIN|ENOTFOUND|ECONNABORTED)$/;

/** node-postgres reports a connection it lost without any code; these are its words for it. */
const CLIENT_CONNECTION_LOSS =
  /Connection terminated|Client has encountered a connection error|Connection ended|terminating connection|\bsocket\b|the database system is (starting up|shutting down)/i;

export function classifyPgError(error: unknown): PgFailure {
  const code = typeof (error as { code?: unknown })?.code === "string" ? (error as { code: string }).code : undefined;
  if (code !== undefined) {
    if (/^E[A-Z]+$/.test(code)) return { kind: SOCKET_ERRNO.test(code) ? "connection" : "other", code };
    for (const [pattern, kind] of BY_SQLSTATE) {
      if (pattern.test(code)) return { kind, code };
    }
    return { kind: "other", code };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { kind: CLIENT_CONNECTION_LOSS.test(message) ? "connection" : "other" };
}

/** Failures that end or never start a connection: reconnecting later is the cure. */
export function isConnectionFailure(error: unknown): boolean {
  const { kind } = classifyPgError(error);
  return kind === "connection" || kind === "resources";
}

/** A row with this key is stored already (unique_violation): the write was made before. */
export function isUniqueViolation(error: unknown): boolean {
  return classifyPgError(error).code === "23505";
}

/** The object being created exists already (duplicate_object), e.g. a slot another process made first. */
export function isDuplicateObject(error: unknown): boolean {
  return classifyPgError(error).code === "42710";
}

/**
 * The server refused a value, not the request: the same value fails the same way however often
 * it is sent, while the rows around it are fine. Class 22 (data), class 23 (a constraint), class
 * 54 (a limit, e.g. an index entry too large for its page) and an exception raised by a trigger
 * or a check function (P0001).
 */
export function isRefusedValue(error: unknown): boolean {
  const { kind, code } = classifyPgError(error);
  return kind === "data" || kind === "integrity" || (code !== undefined && /^(54\d{3}|P0001)$/.test(code));
}

/**
 * A server message without the input it quotes: class-22 messages end with the refused text
 * (`invalid input syntax for type integer: "123-45-6789"`) and key messages name the key's
 * values (`Key (ssn)=(123-45-6789)`). That text is row data.
 */
export function messageWithoutValues(message: string): string {
  return message.replace(/: ".*"$/s, ': "…"').replace(/\(([^()]*)\)=\(.*?\)/g, "($1)=(…)");
}
