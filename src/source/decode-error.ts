// The named failures of the decoding layer: a payload the decoder cannot turn into a typed
// message, and a column text the value conversion cannot read. Column values never appear in
// the messages (they may hold personal data); positions and type names do.

export type DecoderPlugin = "pgoutput" | "wal2json";

/** Where in the stream a payload failed to decode. */
export interface DecodeContext {
  /** Byte offset in the payload (pgoutput) or character offset in the JSON text (wal2json). */
  readonly offset?: number;
  /** The relation OID a pgoutput message referred to. */
  readonly relationId?: number;
  /** "schema.table" when known. */
  readonly table?: string;
  readonly column?: string;
}

/** A replication payload the decoder does not understand or that contradicts the protocol. */
export class DecodeError extends Error {
  override readonly name = "DecodeError";
  readonly plugin: DecoderPlugin;
  readonly tag: string;
  readonly reason: string;
  readonly context: DecodeContext;
  constructor(options: {
    readonly plugin: DecoderPlugin;
    /** The message type: pgoutput's tag byte as a character, wal2json's "action". */
    readonly tag: string;
    readonly reason: string;
    readonly context?: DecodeContext;
    readonly cause?: unknown;
  }) {
    const context = options.context ?? {};
    super(
      `${options.plugin} ${describeTag(options.tag)}: ${options.reason}${describeContext(context)}`,
      "cause" in options ? { cause: options.cause } : undefined,
    );
    this.plugin = options.plugin;
    this.tag = options.tag;
    this.reason = options.reason;
    this.context = context;
  }
}

export interface ValueConversionErrorOptions {
  readonly typeName: string;
  readonly typeOid: number;
  readonly reason: string;
  /** Character position in the value text where reading failed. */
  readonly position?: number | undefined;
}

/** A column's text that is not valid PostgreSQL output for its type. */
export class ValueConversionError extends Error {
  override readonly name = "ValueConversionError";
  readonly typeName: string;
  readonly typeOid: number;
  readonly reason: string;
  /** Character position in the value text where reading failed. */
  readonly position: number | undefined;
  constructor({ typeName, typeOid, reason, position }: ValueConversionErrorOptions) {
    super(
      `cannot read ${typeName} (oid ${typeOid}) value: ${reason}${position === undefined ? "" : ` at ${position}`}`,
    );
    this.typeName = typeName;
    this.typeOid = typeOid;
    this.reason = reason;
    this.position = position;
  }
}

function describeTag(tag: string): string {
  const code = tag.length === 1 ? tag.charCodeAt(0) : -1;
  if (code >= 0x20 && code < 0x7f) return `message '${tag}'`;
  if (code >= 0) return `message 0x${code.toString(16).padStart(2, "0")}`;
  return `message ${JSON.stringify(tag)}`;
}

function describeContext(context: DecodeContext): string {
  const parts: string[] = [];
  if (context.table !== undefined) parts.push(`table ${context.table}`);
  if (context.column !== undefined) parts.push(`column ${context.column}`);
  if (context.relationId !== undefined) parts.push(`relation ${context.relationId}`);
  if (context.offset !== undefined) parts.push(`offset ${context.offset}`);
  return parts.length === 0 ? "" : ` (${parts.join(", ")})`;
}
