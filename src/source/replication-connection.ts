// The one place that reaches inside pg-logical-replication. Its LogicalReplicationService keeps
// the replication session private, and its public API offers neither of the two things capture
// needs:
// - sending our own standby status update. The public acknowledge(lsn) reports lsn + 1 with a
//   clock offset from the wrong epoch, and refuses before 'start'; ESS reports exactly the
//   position that is durable in the ledger (standby-status.ts) and asks for a reply at will.
// - the walsender's process id, which names the server session in a "replication silent" error
//   and lets the next session end exactly that backend.
// Both read fields the library sets in its client() method (`_client`, a pg.Client in
// replication mode, and `_connection`, that client's protocol connection).
// test/source/replication-connection.test.ts connects through the library and fails, naming the
// field, if a new version renames or reshapes them.
import type { LogicalReplicationService } from "pg-logical-replication";

interface ServiceInternals {
  _connection?: { sendCopyFromChunk?: unknown } | null;
  _client?: { processID?: unknown } | null;
}

function internals(service: LogicalReplicationService): ServiceInternals {
  return service as unknown as ServiceInternals;
}

/**
 * Sends one CopyData message on the service's replication connection; false when the service
 * has no connection (not started yet, or stopped).
 */
export function sendOnReplicationConnection(service: LogicalReplicationService, message: Buffer): boolean {
  const connection = internals(service)._connection;
  if (!connection || typeof connection.sendCopyFromChunk !== "function") return false;
  (connection.sendCopyFromChunk as (chunk: Buffer) => void).call(connection, message);
  return true;
}

/** The server process id of the service's replication session, once connected. */
export function replicationBackendPid(service: LogicalReplicationService): number | undefined {
  const pid = internals(service)._client?.processID;
  return typeof pid === "number" ? pid : undefined;
}
