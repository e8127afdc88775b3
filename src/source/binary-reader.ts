// A bounds-checked big-endian cursor over one replication payload, as the logical replication
// message formats lay out their fields (Int8/16/32/64, NUL-terminated String, Byten).

/** The payload ended before a field the message format says is there. */
export class TruncatedPayloadError extends Error {
  override readonly name = "TruncatedPayloadError";
  readonly offset: number;
  readonly needed: number;
  readonly length: number;
  constructor({
    offset,
    needed,
    length,
  }: { readonly offset: number; readonly needed: number; readonly length: number }) {
    super(`payload truncated: ${needed} byte(s) needed at offset ${offset}, payload has ${length}`);
    this.offset = offset;
    this.needed = needed;
    this.length = length;
  }
}

export class BinaryReader {
  offset = 0;

  constructor(readonly buf: Buffer) {}

  get remaining(): number {
    return this.buf.length - this.offset;
  }

  private need(n: number): number {
    const at = this.offset;
    if (at + n > this.buf.length) throw new TruncatedPayloadError({ offset: at, needed: n, length: this.buf.length });
    this.offset = at + n;
    return at;
  }

  uint8(): number {
    return this.buf[this.need(1)]!;
  }

  int16(): number {
    return this.buf.readInt16BE(this.need(2));
  }

  int32(): number {
    return this.buf.readInt32BE(this.need(4));
  }

  uint32(): number {
    return this.buf.readUInt32BE(this.need(4));
  }

  uint64(): bigint {
    return this.buf.readBigUInt64BE(this.need(8));
  }

  int64(): bigint {
    return this.buf.readBigInt64BE(this.need(8));
  }

  /** A NUL-terminated UTF-8 string (the protocol's "String" field). */
  cstring(): string {
    const start = this.offset;
    const end = this.buf.indexOf(0, start);
    if (end < 0)
      throw new TruncatedPayloadError({ offset: start, needed: this.buf.length - start + 1, length: this.buf.length });
    this.offset = end + 1;
    return this.buf.toString("utf8", start, end);
  }

  /** `n` bytes decoded as UTF-8 text. */
  text(n: number): string {
    const at = this.need(n);
    return this.buf.toString("utf8", at, at + n);
  }

  /** `n` raw bytes, copied so the result outlives the payload buffer. */
  bytes(n: number): Buffer {
    const at = this.need(n);
    return Buffer.from(this.buf.subarray(at, at + n));
  }
}
