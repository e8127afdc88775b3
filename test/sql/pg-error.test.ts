// One classifier of PostgreSQL failures: SQLSTATE first, Node's errno for sockets, and node-postgres's own connection-loss errors.
import pg from "pg";
import { describe, expect, it } from "vitest";
import {
  classifyPgError,
  isConnectionFailure,
  isDuplicateObject,
  isRefusedValue,
  isUniqueViolation,
  type PgFailureKind,
} from "../../src/sql/pg-error.js";

function serverError(code: string): pg.DatabaseError {
  const error = new pg.DatabaseError("server said no", 0, "error");
  error.code = code;
  return error;
}

function socketError(code: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`connect ${code} 127.0.0.1:5432`);
  error.code = code;
  return error;
}

const CASES: ReadonlyArray<readonly [string, unknown, PgFailureKind]> = [
  ["admin shutdown 57P01", serverError("57P01"), "connection"],
  ["connection exception 08006", serverError("08006"), "connection"],
  ["too many connections 53300", serverError("53300"), "resources"],
  ["serialization failure 40001", serverError("40001"), "conflict"],
  ["deadlock 40P01", serverError("40P01"), "conflict"],
  ["in failed transaction 25P02", serverError("25P02"), "aborted-transaction"],
  ["read-only transaction 25006", serverError("25006"), "read-only"],
  ["insufficient privilege 42501", serverError("42501"), "permission"],
  ["undefined table 42P01", serverError("42P01"), "undefined-object"],
  ["invalid schema 3F000", serverError("3F000"), "undefined-object"],
  ["statement timeout 57014", serverError("57014"), "timeout"],
  ["lock not available 55P03", serverError("55P03"), "timeout"],
  ["slot in use 55006", serverError("55006"), "object-in-use"],
  ["not in prerequisite state 55000", serverError("55000"), "prerequisite-state"],
  ["NUL in text 22P05", serverError("22P05"), "data"],
  ["unique violation 23505", serverError("23505"), "integrity"],
  ["syntax error 42601", serverError("42601"), "other"],
  ["connection refused", socketError("ECONNREFUSED"), "connection"],
  ["connection reset", socketError("ECONNRESET"), "connection"],
  ["a file system errno", socketError("ENOENT"), "other"],
  ["node-postgres lost the connection", new Error("Connection terminated unexpectedly"), "connection"],
  ["a plain error", new Error("mapping failed"), "other"],
  ["not an error at all", "boom", "other"],
];

describe("classifyPgError", () => {
  it.each(CASES)("%s", (_label, error, kind) => {
    expect(classifyPgError(error).kind).toBe(kind);
  });

  it("keeps the code it sorted by", () => {
    expect(classifyPgError(serverError("40P01")).code).toBe("40P01");
    expect(classifyPgError(socketError("EPIPE")).code).toBe("EPIPE");
  });

  it("counts running out of connections as a connection failure, a bad value not", () => {
    expect(isConnectionFailure(serverError("53300"))).toBe(true);
    expect(isConnectionFailure(serverError("22P05"))).toBe(false);
  });

  it("treats a value the server refuses (data, constraint, limit, trigger exception) as the row's fault, never a lost ledger", () => {
    for (const code of ["22P05", "22001", "23514", "23502", "54000", "P0001"]) {
      expect(isRefusedValue(serverError(code)), code).toBe(true);
    }
    for (const error of [
      serverError("08006"),
      serverError("57P01"),
      serverError("53100"),
      serverError("42P01"),
      serverError("42501"),
      serverError("25006"),
      serverError("57014"),
      socketError("ECONNRESET"),
      new Error("Connection terminated unexpectedly"),
    ]) {
      expect(isRefusedValue(error)).toBe(false);
    }
  });

  it("tells a key stored already and an object created already from other failures of their class", () => {
    expect(isUniqueViolation(serverError("23505"))).toBe(true);
    expect(isUniqueViolation(serverError("23514"))).toBe(false);
    expect(isUniqueViolation(socketError("ECONNRESET"))).toBe(false);
    expect(isDuplicateObject(serverError("42710"))).toBe(true);
    expect(isDuplicateObject(serverError("42P07"))).toBe(false);
    expect(isDuplicateObject(new Error("slot exists"))).toBe(false);
  });
});
