// The pseudo-columns a field may read besides the row: the change's context (_op, _token…) and, in batch headers and trailers, the batch's totals.
import type { Op } from "../change/change.js";
import { PgTimestampTz, type Row, type Value } from "../change/value.js";

/** What the delivery engine knows about the change a record is rendered for. */
export interface RenderContext {
  readonly op: Op;
  readonly token: string;
  readonly correlationId: string;
  readonly commitTime: Date;
}

/** What the delivery engine knows about the batch a drop file is assembled for. */
export interface BatchContext {
  readonly createdAt: Date;
  readonly sequence: number;
}

/** Names fixed per target: the mapping, the connector, the source table or topic. */
export interface StaticColumns {
  readonly _mapping: string;
  readonly _connector: string;
  /** 'schema.table' or the topic. */
  readonly _source: string;
}

/**
 * Record pseudo-columns: _op (insert, update, delete, truncate), _token (the idempotency
 * token), _correlation_id, _commit_time (an instant, for format:), plus _mapping,
 * _connector and _source. A real column of the same name is shadowed.
 */
export const RECORD_PSEUDO_COLUMNS = [
  "_op",
  "_token",
  "_correlation_id",
  "_commit_time",
  "_mapping",
  "_connector",
  "_source",
] as const;

/**
 * Batch pseudo-columns, for fixed-width header and trailer records only: _record_count (data
 * records in the file), _sequence (the batch number), _created_at (an instant), and
 * _sum_<FIELD>: the total of a numeric data field, read back from the rendered records.
 */
export const BATCH_PSEUDO_COLUMNS = ["_record_count", "_sequence", "_created_at"] as const;
export const SUM_PREFIX = "_sum_";

export type SourceReader = (row: Row, context: RenderContext) => Value;

/** Reads a column or a record pseudo-column; a column missing from the row (a delete's old row) reads as NULL. */
export function recordReader(name: string, statics: StaticColumns): SourceReader {
  switch (name) {
    case "_op":
      return (_row, context) => context.op;
    case "_token":
      return (_row, context) => context.token;
    case "_correlation_id":
      return (_row, context) => context.correlationId;
    case "_commit_time":
      return (_row, context) => new PgTimestampTz(context.commitTime.toISOString());
    case "_mapping":
    case "_connector":
    case "_source": {
      const value = statics[name];
      return () => value;
    }
    default:
      return (row) => row[name] ?? null;
  }
}

/** Whether a name may be read by a header or trailer field. */
export function isBatchColumn(name: string): boolean {
  return (
    (BATCH_PSEUDO_COLUMNS as readonly string[]).includes(name) ||
    name === "_mapping" ||
    name === "_connector" ||
    name === "_source" ||
    (name.startsWith(SUM_PREFIX) && name.length > SUM_PREFIX.length)
  );
}

/** The row a header or trailer is rendered from. */
export function batchRow(
  batch: BatchContext,
  recordCount: number,
  sums: ReadonlyMap<string, string>,
  statics: StaticColumns,
): Row {
  const row: Record<string, Value> = {
    ...statics,
    _record_count: recordCount,
    _sequence: batch.sequence,
    _created_at: new PgTimestampTz(batch.createdAt.toISOString()),
  };
  for (const [field, total] of sums) row[SUM_PREFIX + field] = total;
  return row;
}
