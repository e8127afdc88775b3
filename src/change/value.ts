// Typed column values as ESS carries them from the replication stream to the mappings:
// lossless (no float for numeric or int8, microseconds kept) and plugin-independent.

/** A calendar date exactly as PostgreSQL printed it: 'YYYY-MM-DD', 'infinity', '-infinity' or with ' BC'. */
export class PgDate {
  constructor(readonly text: string) {}
  toJSON(): string {
    return this.text;
  }
}

/** A timestamp without time zone: 'YYYY-MM-DDTHH:MM:SS[.ffffff]' (ISO, no zone), or 'infinity'/'-infinity'. */
export class PgTimestamp {
  constructor(readonly text: string) {}
  toJSON(): string {
    return this.text;
  }
}

/** An instant, normalised to UTC: 'YYYY-MM-DDTHH:MM:SS[.ffffff]Z', or 'infinity'/'-infinity'. */
export class PgTimestampTz {
  constructor(readonly text: string) {}
  toJSON(): string {
    return this.text;
  }
}

/** A json or jsonb document, parsed. Kept in a wrapper so it is never mistaken for an array column. */
export class PgJson {
  constructor(readonly value: JsonValue) {}
  toJSON(): JsonValue {
    return this.value;
  }
}

/**
 * pgoutput's 'u' marker: the column is a TOASTed value the update did not change, so the
 * server did not send it. It is not NULL, and must never be written out as NULL.
 */
export class UnchangedToast {
  static readonly instance = new UnchangedToast();
  private constructor() {}
  toJSON(): { $toast: "unchanged" } {
    return { $toast: "unchanged" };
  }
}
export const UNCHANGED_TOAST = UnchangedToast.instance;

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * One column value.
 * - number: int2, int4, oid, float4, float8 (NaN and ±Infinity included)
 * - bigint: int8
 * - string: text, varchar, bpchar, name, uuid, enums, numeric (the exact decimal text, or 'NaN'),
 *   time, timetz, interval, and any type without a dedicated conversion (PostgreSQL's text form)
 * - Buffer: bytea
 * - Value[]: arrays (nested for multi-dimensional arrays)
 */
export type Value =
  | null
  | boolean
  | number
  | bigint
  | string
  | Buffer
  | PgDate
  | PgTimestamp
  | PgTimestampTz
  | PgJson
  | UnchangedToast
  | readonly Value[];

export type Row = Readonly<Record<string, Value>>;
