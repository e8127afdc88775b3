// A whole mapping compiled: which changes it takes (table or topic, ops, where), their ordering key, and its targets.

import type { Op, TableRef } from "../change/change.js";
import { type Row, UnchangedToast } from "../change/value.js";
import type { ConnectorConfig, MappingConfig, SourceLocation } from "../config/types.js";
import { MappingConfigError } from "./errors.js";
import { type CompiledTarget, compileTarget } from "./target.js";
import { type TimeZone, TimezoneError, timeZone } from "./time-zone.js";
import { valueText } from "./value-text.js";

/** The part of a change a mapping looks at. For a delete, `row` is the old row (often the key only). */
export interface MappedChange {
  readonly op: Op;
  readonly table?: TableRef;
  readonly topic?: string;
  readonly row: Row;
}

export interface CompiledMapping {
  readonly config: MappingConfig;
  readonly targets: readonly CompiledTarget[];
  /** The key columns orderingKey reads (source.key, the override, or the `id` fallback). */
  readonly keyColumns: readonly string[];
  /** Every row column the mapping reads (fields, where, key), for checks against the database. */
  readonly columns: readonly string[];
  /** Does this change concern this mapping? (table or topic, ops, where filter) */
  matches(change: MappedChange): boolean;
  /** Can a change of this table concern this mapping (its source table, whatever the op or row)? */
  readsTable(table: TableRef): boolean;
  /** The ordering key of a row: the key columns' values joined in a stable text form. */
  orderingKey(row: Row): string;
}

export interface CompileOptions {
  /**
   * The table's primary key, resolved against the database: the ordering key when the mapping
   * has no source.key (see mappingKeyColumns).
   */
  readonly keyColumns?: readonly string[];
  /** ess.yaml `hashKey`, which keys the `hash` formatter. */
  readonly hashKey?: string;
}

export interface CompileResult {
  readonly mapping?: CompiledMapping;
  /** Every problem of the mapping, not just the first. */
  readonly errors: readonly MappingConfigError[];
}

function at(location: SourceLocation, ...keys: string[]): SourceLocation {
  return { ...location, path: [...location.path, ...keys] };
}

/** The where filter as sets of accepted texts per column; NULL is matched by a null entry. */
function compileWhere(where: MappingConfig["source"]["where"]): (row: Row) => boolean {
  const tests = Object.entries(where).map(([column, accepted]) => {
    const texts = new Set(accepted.filter((v) => v !== null).map((v) => String(v)));
    const acceptsNull = accepted.includes(null);
    return { column, texts, acceptsNull };
  });
  if (tests.length === 0) return () => true;
  return (row) => {
    for (const { column, texts, acceptsNull } of tests) {
      const value = row[column];
      // A column the change did not carry (a delete's key-only old row, an unchanged TOAST
      // value) cannot be tested; the change passes rather than being lost.
      if (value === undefined || value instanceof UnchangedToast) continue;
      if (value === null ? !acceptsNull : !texts.has(valueText(value))) return false;
    }
    return true;
  };
}

function sameTable(a: TableRef | undefined, b: TableRef | undefined): boolean {
  return a !== undefined && b !== undefined && a.schema === b.schema && a.name === b.name;
}

/**
 * The ordering key: a single key column's text as it is ("BP-802"); several as a JSON array
 * of texts ('["A","7"]'), NULL and missing columns as null. With no key column in the row
 * at all (the `id` fallback on a table without id) the key is "": one lane, strictly ordered.
 */
function orderingKeyOf(columns: readonly string[], fallback: boolean): (row: Row) => string {
  const [only] = columns;
  return (row) => {
    if (columns.length === 1 && only !== undefined) {
      const value = row[only];
      if (value === undefined && fallback) return "";
      if (value !== undefined && value !== null && !(value instanceof UnchangedToast)) return valueText(value);
    }
    return JSON.stringify(
      columns.map((c) => {
        const value = row[c];
        return value === undefined || value === null || value instanceof UnchangedToast ? null : valueText(value);
      }),
    );
  };
}

/** Compiles a mapping for its connectors; collects every error of every field and target. */
/**
 * The columns of a mapping's ordering key: `source.key`, else the table's primary key, else
 * `id` (`fallback`: a table without a primary key, or one not known yet). An empty primary key
 * counts as none.
 */
export function mappingKeyColumns(
  mapping: MappingConfig,
  primaryKey?: readonly string[],
): { readonly columns: readonly string[]; readonly fallback: boolean } {
  if (mapping.source.key !== undefined) return { columns: mapping.source.key, fallback: false };
  if (primaryKey !== undefined && primaryKey.length > 0) return { columns: primaryKey, fallback: false };
  return { columns: ["id"], fallback: true };
}

export function compileMapping(
  mapping: MappingConfig,
  connectors: ReadonlyMap<string, ConnectorConfig>,
  options: CompileOptions = {},
): CompileResult {
  const errors: MappingConfigError[] = [];
  let zone: TimeZone | undefined;
  try {
    zone = timeZone(mapping.timezone);
  } catch (error) {
    if (!(error instanceof TimezoneError)) throw error;
    errors.push(
      new MappingConfigError(at(mapping.location, "timezone"), error.message, {
        expected: "an IANA time zone such as America/New_York",
        found: mapping.timezone,
      }),
    );
    zone = timeZone("UTC");
  }
  const pii = new Set(mapping.pii);
  const { columns: keyColumns, fallback: fallbackKey } = mappingKeyColumns(mapping, options.keyColumns);
  for (const column of keyColumns) {
    if (pii.has(column)) {
      errors.push(
        new MappingConfigError(at(mapping.location, "source", "key"), `key column ${column} is listed in pii`, {
          expected: "key columns that are not PII (the ordering key appears in the ledger and logs)",
          found: column,
        }),
      );
    }
  }
  const targets: CompiledTarget[] = [];
  mapping.targets.forEach((target, index) => {
    const hashKey = options.hashKey !== undefined ? { hashKey: options.hashKey } : {};
    const result = compileTarget(target, index, { mapping, zone, pii, connectors, ...hashKey });
    errors.push(...result.errors);
    if (result.target) targets.push(result.target);
  });
  if (errors.length > 0) return { errors };
  const source = mapping.source;
  const ops = new Set(source.ops);
  const where = compileWhere(source.where);
  const columns = new Set<string>([...Object.keys(source.where), ...(fallbackKey ? [] : keyColumns)]);
  for (const target of targets) for (const column of target.columns) columns.add(column);
  return {
    errors,
    mapping: {
      config: mapping,
      targets,
      keyColumns,
      columns: [...columns],
      matches(change) {
        if (!ops.has(change.op)) return false;
        if (source.topic !== undefined ? change.topic !== source.topic : !sameTable(change.table, source.table)) {
          return false;
        }
        return change.op === "truncate" || where(change.row);
      },
      readsTable: (table) => source.topic === undefined && sameTable(table, source.table),
      orderingKey: orderingKeyOf(keyColumns, fallbackKey),
    },
  };
}
