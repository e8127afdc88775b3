// What each table mapping asks of its source table: the columns it reads (and where in the YAML), its key and its operations.

import type { Op, TableRef } from "../change/change.js";
import type { FieldConfig, MappingConfig, RecordFormat, SourceLocation } from "../config/types.js";
import type { CompiledMapping } from "../mapping/index.js";

/** A place in a configuration file; line and column are absent when only the field path is known. */
export interface ProblemLocation {
  readonly file: string;
  readonly line?: number;
  readonly column?: number;
  readonly path: readonly (string | number)[];
}

export interface ColumnUse {
  readonly column: string;
  /** The record format of the target whose field reads it; absent for where and key columns. */
  readonly format?: RecordFormat;
  readonly location: ProblemLocation;
}

export interface TableDemand {
  readonly mapping: string;
  readonly file: string;
  readonly table: TableRef;
  readonly ops: readonly Op[];
  /** The ordering key: source.key, else the table's primary key, else `id`. */
  readonly keyColumns: readonly string[];
  readonly uses: readonly ColumnUse[];
}

export function sourceLocation(mapping: MappingConfig, ...path: (string | number)[]): ProblemLocation {
  return { file: mapping.location.file, path };
}

/** The demands of the table mappings (topic mappings ask nothing of the database). */
export function tableDemands(mappings: readonly CompiledMapping[]): TableDemand[] {
  const demands: TableDemand[] = [];
  for (const compiled of mappings) {
    const mapping = compiled.config;
    const table = mapping.source.table;
    if (!table) continue;
    const uses: ColumnUse[] = [];
    for (const column of Object.keys(mapping.source.where)) {
      uses.push({ column, location: sourceLocation(mapping, "source", "where", column) });
    }
    if (mapping.source.key) {
      for (const column of mapping.source.key)
        uses.push({ column, location: sourceLocation(mapping, "source", "key") });
    }
    for (const target of compiled.targets) {
      const config = mapping.targets[target.index];
      for (const column of target.columns) {
        const field = config?.fields.find((f) => fieldColumn(f) === column);
        const location = field?.location ?? config?.location;
        uses.push({
          column,
          format: target.format,
          location: location ? fromSource(location) : sourceLocation(mapping, "targets", target.index),
        });
      }
    }
    demands.push({
      mapping: mapping.name,
      file: mapping.location.file,
      table,
      ops: mapping.source.ops,
      keyColumns: compiled.keyColumns,
      uses,
    });
  }
  return demands;
}

function fromSource(location: SourceLocation): ProblemLocation {
  return { file: location.file, line: location.line, column: location.column, path: location.path };
}

const PLAIN_COLUMN = /^[A-Za-z_][A-Za-z0-9_$-]*$/;
const QUOTED_COLUMN = /^"((?:[^"]|"")+)"$/;

/**
 * The column a field reads, to point a problem at the field's line. The mapping engine has
 * already validated the expression; a field this cannot read is located at its target.
 */
function fieldColumn(field: FieldConfig): string | undefined {
  const source = typeof field.spec === "string" ? field.spec : field.spec.from;
  if (source === undefined) return undefined;
  const head = (source.split(/(?<!\\)\|/)[0] ?? "").trim();
  if (PLAIN_COLUMN.test(head)) return head;
  return QUOTED_COLUMN.exec(head)?.[1]?.replaceAll('""', '"');
}
