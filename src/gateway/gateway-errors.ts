// The named failures of the Gateway: an event or receipt id the caller got wrong, and database
// failures sorted by SQLSTATE so an application knows whether to retry.
import pg from "pg";
import { classifyPgError, type PgFailureKind } from "../sql/pg-error.js";

/** Every error the Gateway throws extends this one. */
export class GatewayError extends Error {
  override readonly name: string = "GatewayError";
}

/** The event cannot be sent as given: a bad topic, a payload that is not a JSON object. Never retriable. */
export class InvalidEventError extends GatewayError {
  override readonly name = "InvalidEventError";
  /** Where in the event: "topic", "payload", "payload.visits[2].at". */
  readonly path: string;
  readonly reason: string;
  constructor({ path, reason }: { readonly path: string; readonly reason: string }) {
    super(`invalid event: ${path}: ${reason}`);
    this.path = path;
    this.reason = reason;
  }
}

/** receipt() was given something that is not a receipt id (receipt ids are UUIDs). */
export class InvalidReceiptIdError extends GatewayError {
  override readonly name = "InvalidReceiptIdError";
  constructor(readonly id: string) {
    super(`not a receipt id: ${JSON.stringify(id.slice(0, 80))} (receipt ids are the UUIDs send() returns)`);
  }
}

/** The Gateway cannot work as set up: a bad ledger schema name, or a source database without wal_level=logical. */
export class GatewaySetupError extends GatewayError {
  override readonly name = "GatewaySetupError";
  constructor(
    message: string,
    /** SQL a DBA can run to fix it. */
    readonly fixSql?: string,
  ) {
    super(fixSql ? `${message}\n  fix: ${fixSql}` : message);
  }
}

/**
 * What went wrong with the database, as an application acts on it:
 * - connection: unreachable, restarting, out of connections; retry later
 * - conflict: serialization failure or deadlock; retry the caller's whole transaction
 * - aborted-transaction: the caller's transaction had already failed; roll it back
 * - read-only: a read-only transaction or a standby; send on the primary
 * - permission: the role may not emit logical messages or read the ledger
 * - ledger-missing: the ledger schema is not there; run `essctl migrate`
 * - timeout: a statement or lock timeout; retry later
 * - other: anything else (the SQLSTATE is in `code`)
 */
export type DatabaseFailure =
  | "connection"
  | "conflict"
  | "aborted-transaction"
  | "read-only"
  | "permission"
  | "ledger-missing"
  | "timeout"
  | "other";

export interface GatewayDatabaseErrorOptions {
  readonly operation: "send" | "receipt";
  readonly failure: DatabaseFailure;
  /** Worth trying again as it is (a conflict: the caller's whole transaction). */
  readonly retriable: boolean;
  /** The SQLSTATE, when the server answered. */
  readonly code: string | undefined;
  readonly cause: unknown;
}

export class GatewayDatabaseError extends GatewayError {
  override readonly name = "GatewayDatabaseError";
  readonly operation: "send" | "receipt";
  readonly failure: DatabaseFailure;
  readonly retriable: boolean;
  readonly code: string | undefined;
  constructor(message: string, options: GatewayDatabaseErrorOptions) {
    super(message, { cause: options.cause });
    this.operation = options.operation;
    this.failure = options.failure;
    this.retriable = options.retriable;
    this.code = options.code;
  }
}

const FAILURE_BY_KIND: Readonly<Record<PgFailureKind, readonly [DatabaseFailure, boolean]>> = {
  connection: ["connection", true],
  resources: ["connection", true],
  conflict: ["conflict", true],
  "aborted-transaction": ["aborted-transaction", false],
  "read-only": ["read-only", false],
  permission: ["permission", false],
  "undefined-object": ["ledger-missing", false],
  timeout: ["timeout", true],
  "object-in-use": ["other", false],
  "prerequisite-state": ["other", false],
  data: ["other", false],
  integrity: ["other", false],
  other: ["other", false],
};

/** Sorts a failure by its SQLSTATE; an error the server did not send (socket, connect) is a connection failure. */
export function classifyDatabaseError(error: unknown): { failure: DatabaseFailure; retriable: boolean; code?: string } {
  if (!(error instanceof pg.DatabaseError)) return { failure: "connection", retriable: true };
  const { kind, code } = classifyPgError(error);
  const [failure, retriable] = FAILURE_BY_KIND[kind];
  return code === undefined ? { failure, retriable } : { failure, retriable, code };
}

/** Wraps a database failure of one Gateway operation, keeping the original as the cause. */
export function databaseError(operation: "send" | "receipt", error: unknown): GatewayDatabaseError {
  const { failure, retriable, code } = classifyDatabaseError(error);
  const hint = failure === "ledger-missing" ? " (is the ledger migrated? run essctl migrate)" : "";
  const message = `${operation} failed: ${failure}${code ? ` [SQLSTATE ${code}]` : ""}: ${(error as Error)?.message ?? String(error)}${hint}`;
  return new GatewayDatabaseError(message, { operation, failure, retriable, code, cause: error });
}
