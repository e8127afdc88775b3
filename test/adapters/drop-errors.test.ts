// How file system, SFTP and connect failures are classified for the retry policy.
import { describe, expect, it } from "vitest";
import { AdapterError } from "../../src/adapters/adapter.js";
import { DropTargetError } from "../../src/adapters/drop-target.js";
import { classifyFsError, fsDropError } from "../../src/adapters/file-errors.js";
import { classifyConnectFailure, classifySftpStatus, sftpDropError } from "../../src/adapters/sftp-errors.js";

describe("local file system failures", () => {
  const cases = [
    { code: "EACCES", operation: "write", failure: "retriable", reason: "permission_denied" },
    { code: "EPERM", operation: "write", failure: "retriable", reason: "permission_denied" },
    { code: "EROFS", operation: "rename", failure: "retriable", reason: "read_only_filesystem" },
    { code: "ENOSPC", operation: "append", failure: "retriable", reason: "no_space" },
    { code: "ENOENT", operation: "write", failure: "attention", reason: "no_such_directory" },
    { code: "ENOENT", operation: "check-dir", failure: "attention", reason: "no_such_directory" },
    { code: "ENOENT", operation: "rename", failure: "retriable", reason: "file_vanished" },
    { code: "ENOTDIR", operation: "write", failure: "attention", reason: "not_a_directory" },
    { code: "EISDIR", operation: "write", failure: "attention", reason: "not_a_file" },
    { code: "EIO", operation: "write", failure: "retriable", reason: "io_error" },
    { code: undefined, operation: "write", failure: "retriable", reason: "io_error" },
  ] as const;
  it.each(cases)("$code during $operation is $failure ($reason)", ({ code, operation, failure, reason }) => {
    expect(classifyFsError(code, operation)).toEqual({ failure, reason });
  });

  it("keeps the path, the operation and the errno on the error", () => {
    const cause = Object.assign(new Error("EACCES: permission denied, open '/drop/x.part'"), { code: "EACCES" });
    const error = fsDropError(cause, "write", "/drop/x.part");
    expect(error).toBeInstanceOf(AdapterError);
    expect(error).toMatchObject({
      failure: "retriable",
      reason: "permission_denied",
      path: "/drop/x.part",
      code: "EACCES",
    });
    expect(error.cause).toBe(cause);
  });
});

describe("SFTP status failures", () => {
  const cases = [
    { status: 2, operation: "write", failure: "attention", reason: "no_such_directory" },
    { status: 2, operation: "rename", failure: "retriable", reason: "file_vanished" },
    { status: 3, operation: "write", failure: "retriable", reason: "permission_denied" },
    { status: 4, operation: "append", failure: "retriable", reason: "sftp_failure" },
    { status: 5, operation: "write", failure: "attention", reason: "sftp_bad_message" },
    { status: 6, operation: "write", failure: "retriable", reason: "connection_lost" },
    { status: 7, operation: "write", failure: "retriable", reason: "connection_lost" },
    { status: 8, operation: "rename", failure: "attention", reason: "sftp_unsupported" },
    { status: undefined, operation: "write", failure: "retriable", reason: "connection_lost" },
  ] as const;
  it.each(cases)("status $status during $operation is $failure ($reason)", ({ status, operation, failure, reason }) => {
    expect(classifySftpStatus(status, operation)).toEqual({ failure, reason });
  });

  it("wraps ssh2's status error with the remote path", () => {
    const cause = Object.assign(new Error("Permission denied"), { code: 3 });
    const error = sftpDropError(cause, "write", "/IN/P.TXT.part");
    expect(error).toBeInstanceOf(DropTargetError);
    expect(error).toMatchObject({ failure: "retriable", reason: "permission_denied", path: "/IN/P.TXT.part", code: 3 });
    expect(error.message).toContain("/IN/P.TXT.part");
  });
});

describe("SFTP connect failures", () => {
  const level = (message: string, value: string, code?: string) =>
    Object.assign(new Error(message), { level: value, code });
  const cases = [
    {
      when: "the host key does not match the pin",
      failure: { error: new Error("getConnection: Host denied"), refusedHostKey: "SHA256:abc" },
      expected: { failure: "attention", reason: "host_key_mismatch" },
    },
    {
      when: "the server refuses the credentials",
      failure: {
        error: new Error("getConnection: All configured authentication methods failed"),
        emitted: level("All configured authentication methods failed", "client-authentication"),
      },
      expected: { failure: "attention", reason: "auth_failed" },
    },
    {
      when: "the key cannot be read",
      failure: {
        error: new Error("Cannot parse privateKey: Encrypted private OpenSSH key detected, but no passphrase given"),
      },
      expected: { failure: "attention", reason: "invalid_private_key" },
    },
    {
      when: "the handshake times out",
      failure: { error: new Error("x"), emitted: level("Timed out while waiting for handshake", "client-timeout") },
      expected: { failure: "retriable", reason: "timeout" },
    },
    {
      when: "nothing listens",
      failure: { error: new Error("x"), emitted: level("connect ECONNREFUSED", "client-socket", "ECONNREFUSED") },
      expected: { failure: "retriable", reason: "connection_refused" },
    },
    {
      when: "the name does not resolve",
      failure: { error: Object.assign(new Error("getaddrinfo ENOTFOUND"), { code: "ENOTFOUND" }) },
      expected: { failure: "retriable", reason: "host_not_found" },
    },
    {
      when: "something else breaks",
      failure: { error: new Error("strange") },
      expected: { failure: "retriable", reason: "connect_failed" },
    },
  ];
  it.each(cases)("$when: $expected.failure", ({ failure, expected }) => {
    expect(classifyConnectFailure(failure)).toEqual(expected);
  });
});
