// Builds the Standby Status Update ('r') message of the streaming replication protocol.
// https://www.postgresql.org/docs/current/protocol-replication.html#PROTOCOL-REPLICATION-STANDBY-STATUS-UPDATE
import type { Lsn } from "../change/change.js";

/** Microseconds between the Unix epoch and PostgreSQL's epoch (2000-01-01). */
const PG_EPOCH_OFFSET_US = 946_684_800_000_000n;

/**
 * Reports `durable` as written, flushed and applied. Unlike pg-logical-replication's own
 * acknowledge(), it does not add 1: a commit record may begin exactly at the previous
 * commit's end LSN, and confirming one byte past it would make the server skip that transaction
 * after a restart.
 */
export function standbyStatusUpdate(durable: Lsn, now: Date, replyRequested = false): Buffer {
  const buf = Buffer.alloc(34);
  buf.write("r", 0, "latin1");
  buf.writeBigUInt64BE(durable, 1);
  buf.writeBigUInt64BE(durable, 9);
  buf.writeBigUInt64BE(durable, 17);
  buf.writeBigInt64BE(BigInt(now.getTime()) * 1000n - PG_EPOCH_OFFSET_US, 25);
  buf.writeUInt8(replyRequested ? 1 : 0, 33);
  return buf;
}
