// Conversions between PostgreSQL's 'X/Y' LSN text and bigint.
import type { Lsn } from "./change.js";

const LSN_TEXT = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;

export function parseLsn(text: string): Lsn {
  const m = LSN_TEXT.exec(text);
  if (!m?.[1] || !m[2]) throw new RangeError(`not an LSN: ${JSON.stringify(text)}`);
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
}

/**
 * The last LSN formatted: every change of a transaction carries its commit LSN, and capture
 * formats it for each change's identity, feed row and deliveries, so one entry answers nearly all.
 */
let lastLsn: Lsn = -1n;
let lastText = "";

export function formatLsn(lsn: Lsn): string {
  if (lsn === lastLsn) return lastText;
  const hi = lsn >> 32n;
  const lo = lsn & 0xffffffffn;
  lastText = `${hi.toString(16).toUpperCase()}/${lo.toString(16).toUpperCase()}`;
  lastLsn = lsn;
  return lastText;
}

/** Reads the 8-byte big-endian LSN the replication protocol puts in message headers. */
export function readLsn(buf: Buffer, offset: number): Lsn {
  return buf.readBigUInt64BE(offset);
}
