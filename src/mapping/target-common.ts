// What a compiled target is, and the field compilation and YAML locations its formats share.

import type { Row } from "../change/value.js";
import type { FieldConfig, RecordFormat, SourceLocation } from "../config/types.js";
import type { MappingConfigError } from "./errors.js";
import { type CompiledField, compileField } from "./field.js";
import type { FieldScope } from "./field-scope.js";
import type { FixedWidthLayout } from "./fixed-width.js";
import type { BatchContext, RenderContext } from "./pseudo-columns.js";

export interface CompiledTarget {
  readonly connector: string;
  readonly format: RecordFormat;
  /** Position in the mapping's targets list. */
  readonly index: number;
  /** The field names in record order (dropped fields left out). */
  readonly fieldNames: readonly string[];
  /** The row columns the fields read (not constants or pseudo-columns). */
  readonly columns: readonly string[];
  /** Record length in bytes, terminator included, for fixed-width targets. */
  readonly recordLength?: number;
  /**
   * One record as the exact bytes the partner receives: the terminator included for
   * fixed-width and CSV; UTF-8 JSON object text for json and soap. Throws MappingError.
   */
  render(row: Row, context: RenderContext): Buffer;
  /**
   * A drop file body from rendered records: fixed-width header/trailer records around them,
   * the CSV header row before them, or one JSON document a line. Throws MappingError.
   */
  renderBatchBody(records: readonly Buffer[], context: BatchContext): Buffer;
  /** Bytes that start a file only (the CSV header row); renderBatchBody's body begins with them. */
  readonly fileHeader?: Buffer;
  /** Fixed-width targets: where every field of each record sits (for copybooks). */
  readonly fixedWidth?: FixedWidthRecords;
}

/** The records of a fixed-width drop file as laid out: data, optional header and trailer, the terminator's bytes. */
export interface FixedWidthRecords {
  readonly record: FixedWidthLayout;
  readonly header?: FixedWidthLayout;
  readonly trailer?: FixedWidthLayout;
  readonly terminator: Buffer;
  /** The code page the text is written in. */
  readonly encoding: string;
}

/** A location one key deeper, e.g. the target's `connector:`. */
export function at(location: SourceLocation, key: string): SourceLocation {
  return { ...location, path: [...location.path, key] };
}

/** Compiles a list of fields, collecting their errors. */
export function compileFields(
  fields: readonly FieldConfig[],
  scope: FieldScope,
  errors: MappingConfigError[],
): CompiledField[] {
  const compiled: CompiledField[] = [];
  for (const field of fields) {
    const result = compileField(field, scope);
    errors.push(...result.errors);
    if (result.field) compiled.push(result.field);
  }
  return compiled;
}
