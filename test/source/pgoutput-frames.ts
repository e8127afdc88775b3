// Builds pgoutput protocol-1 payloads byte by byte, following
// https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html, for golden
// decoder tests and the decode benchmark.

/** A tuple cell: text value, SQL NULL, or the unchanged-TOAST marker. */
export type Cell = string | null | typeof UNCHANGED;
export const UNCHANGED = Symbol("unchanged toast");

export interface FrameColumn {
  readonly name: string;
  readonly typeOid: number;
  readonly typeMod?: number;
  readonly key?: boolean;
}

class FrameWriter {
  private readonly parts: Buffer[] = [];

  byte(c: string | number): this {
    this.parts.push(Buffer.from([typeof c === "string" ? c.charCodeAt(0) : c]));
    return this;
  }

  int16(n: number): this {
    const b = Buffer.alloc(2);
    b.writeInt16BE(n);
    this.parts.push(b);
    return this;
  }

  int32(n: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(n);
    this.parts.push(b);
    return this;
  }

  uint32(n: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    this.parts.push(b);
    return this;
  }

  int64(n: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(n);
    this.parts.push(b);
    return this;
  }

  uint64(n: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(n);
    this.parts.push(b);
    return this;
  }

  cstring(s: string): this {
    this.parts.push(Buffer.from(s, "utf8"), Buffer.from([0]));
    return this;
  }

  raw(b: Buffer): this {
    this.parts.push(b);
    return this;
  }

  tuple(cells: readonly Cell[]): this {
    this.int16(cells.length);
    for (const cell of cells) {
      if (cell === null) this.byte("n");
      else if (cell === UNCHANGED) this.byte("u");
      else {
        const text = Buffer.from(cell, "utf8");
        this.byte("t").int32(text.length).raw(text);
      }
    }
    return this;
  }

  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** Microseconds since 2000-01-01 UTC for a Date (pgoutput's timestamp unit and epoch). */
export function pgMicros(date: Date, extraMicros = 0): bigint {
  return (BigInt(date.getTime()) - 946_684_800_000n) * 1000n + BigInt(extraMicros);
}

export function beginFrame(finalLsn: bigint, commitMicros: bigint, xid: number): Buffer {
  return new FrameWriter().byte("B").uint64(finalLsn).int64(commitMicros).uint32(xid).done();
}

export function commitFrame(commitLsn: bigint, endLsn: bigint, commitMicros: bigint): Buffer {
  return new FrameWriter().byte("C").byte(0).uint64(commitLsn).uint64(endLsn).int64(commitMicros).done();
}

export function originFrame(lsn: bigint, name: string): Buffer {
  return new FrameWriter().byte("O").uint64(lsn).cstring(name).done();
}

export function typeFrame(oid: number, schema: string, name: string): Buffer {
  return new FrameWriter().byte("Y").uint32(oid).cstring(schema).cstring(name).done();
}

export function relationFrame(
  id: number,
  schema: string,
  name: string,
  columns: readonly FrameColumn[],
  replicaIdentity: "d" | "f" | "i" | "n" = "d",
): Buffer {
  const w = new FrameWriter().byte("R").uint32(id).cstring(schema).cstring(name).byte(replicaIdentity);
  w.int16(columns.length);
  for (const c of columns)
    w.byte(c.key ? 1 : 0)
      .cstring(c.name)
      .uint32(c.typeOid)
      .int32(c.typeMod ?? -1);
  return w.done();
}

export function insertFrame(relationId: number, cells: readonly Cell[]): Buffer {
  return new FrameWriter().byte("I").uint32(relationId).byte("N").tuple(cells).done();
}

export function updateFrame(
  relationId: number,
  cells: readonly Cell[],
  old?: { readonly kind: "K" | "O"; readonly cells: readonly Cell[] },
): Buffer {
  const w = new FrameWriter().byte("U").uint32(relationId);
  if (old) w.byte(old.kind).tuple(old.cells);
  return w.byte("N").tuple(cells).done();
}

export function deleteFrame(relationId: number, kind: "K" | "O", cells: readonly Cell[]): Buffer {
  return new FrameWriter().byte("D").uint32(relationId).byte(kind).tuple(cells).done();
}

export function truncateFrame(
  relationIds: readonly number[],
  options: { cascade?: boolean; restartIdentity?: boolean },
): Buffer {
  const w = new FrameWriter().byte("T").int32(relationIds.length);
  w.byte((options.cascade ? 1 : 0) | (options.restartIdentity ? 2 : 0));
  for (const id of relationIds) w.uint32(id);
  return w.done();
}

export function messageFrame(transactional: boolean, lsn: bigint, prefix: string, content: Buffer): Buffer {
  return new FrameWriter()
    .byte("M")
    .byte(transactional ? 1 : 0)
    .uint64(lsn)
    .cstring(prefix)
    .int32(content.length)
    .raw(content)
    .done();
}

/** Any tag byte followed by arbitrary body bytes (for protocol messages the decoder must refuse). */
export function rawFrame(tag: string, body: Buffer = Buffer.alloc(0)): Buffer {
  return new FrameWriter().byte(tag).raw(body).done();
}

/** Stream Start (protocol 2): Int32 xid, Int8 1 for the transaction's first segment. */
export function streamStartFrame(xid: number, firstSegment: boolean): Buffer {
  return new FrameWriter()
    .byte("S")
    .uint32(xid)
    .byte(firstSegment ? 1 : 0)
    .done();
}

export function streamStopFrame(): Buffer {
  return new FrameWriter().byte("E").done();
}

export function streamCommitFrame(xid: number, commitLsn: bigint, endLsn: bigint, commitMicros: bigint): Buffer {
  return new FrameWriter().byte("c").uint32(xid).byte(0).uint64(commitLsn).uint64(endLsn).int64(commitMicros).done();
}

export function streamAbortFrame(xid: number, subXid: number): Buffer {
  return new FrameWriter().byte("A").uint32(xid).uint32(subXid).done();
}

/** A frame as sent inside a stream segment: the Int32 xid follows the tag byte. */
export function inStream(xid: number, frame: Buffer): Buffer {
  return Buffer.concat([frame.subarray(0, 1), new FrameWriter().uint32(xid).done(), frame.subarray(1)]);
}
