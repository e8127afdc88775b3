// A field's spec read into where its value comes from and which formatters it passes through, short form or long.
import type { FieldConfig } from "../config/types.js";
import { MappingConfigError } from "./errors.js";
import {
  ExpressionSyntaxError,
  type FieldSource,
  type FormatterCall,
  parseExpression,
  parseFormatterList,
} from "./expression.js";
import type { FieldScope } from "./field-scope.js";
import { MAX_WIDTH } from "./formatter.js";
import { isBatchColumn, RECORD_PSEUDO_COLUMNS, recordReader, type SourceReader } from "./pseudo-columns.js";
import type { FitSpec } from "./text-fit.js";

/** A field spec read: its source, its formatter calls, and the long form's width. */
export interface ParsedField {
  readonly source: FieldSource;
  readonly calls: readonly FormatterCall[];
  /** The long form's width/align/pad, applied after its formatters. */
  readonly longFit?: FitSpec;
}

/** Reads the short (`col | f:arg`) or long (`{ from, width, align, pad, format }`) form; problems go to `errors`. */
export function parseField(
  field: FieldConfig,
  scope: FieldScope,
  errors: MappingConfigError[],
): ParsedField | undefined {
  const at = (expected: string, found: string, message: string) =>
    errors.push(new MappingConfigError(field.location, `field ${field.name}: ${message}`, { expected, found }));
  const spec = field.spec;
  try {
    if (typeof spec === "string") {
      const parsed = parseExpression(spec);
      return { source: parsed.source, calls: parsed.formatters };
    }
    if ((spec.from === undefined) === (spec.const === undefined)) {
      at(
        "exactly one of from: or const:",
        JSON.stringify(spec),
        "a long-form field needs exactly one of from or const",
      );
      return undefined;
    }
    const source: FieldSource =
      spec.from !== undefined ? parseExpression(spec.from).source : { kind: "const", text: spec.const ?? "" };
    const calls = spec.format === undefined ? [] : parseFormatterList(spec.format);
    if (spec.width === undefined) {
      if (spec.align !== undefined || spec.pad !== undefined) {
        at("width: together with align: or pad:", JSON.stringify(spec), "align and pad need a width");
        return undefined;
      }
      return { source, calls };
    }
    if (!Number.isInteger(spec.width) || spec.width < 1 || spec.width > MAX_WIDTH) {
      at(`an integer width from 1 to ${MAX_WIDTH}`, String(spec.width), "bad width");
      return undefined;
    }
    const pad = spec.pad ?? " ";
    if ([...pad].length !== 1 || scope.measure.length(pad) !== 1) {
      at(
        `one pad character that takes one ${scope.measure.unit === "bytes" ? "byte" : "character"}`,
        JSON.stringify(pad),
        "bad pad",
      );
      return undefined;
    }
    return { source, calls, longFit: { size: spec.width, align: spec.align ?? "left", pad } };
  } catch (error) {
    if (!(error instanceof ExpressionSyntaxError)) throw error;
    at(error.expected, error.found, error.message);
    return undefined;
  }
}

/** How the field reads its value: a constant, a record column or pseudo-column, or a batch pseudo-column. */
export function readerOf(
  source: FieldSource,
  field: FieldConfig,
  scope: FieldScope,
  errors: MappingConfigError[],
): SourceReader {
  if (source.kind === "const") {
    const text = source.text;
    const read: SourceReader = () => text;
    return read;
  }
  if (scope.role !== "record") {
    if (!isBatchColumn(source.name)) {
      errors.push(
        new MappingConfigError(
          field.location,
          `field ${field.name}: a ${scope.role} record cannot read the column ${JSON.stringify(source.name)}`,
          { expected: "const:, _record_count, _sequence, _created_at or _sum_<FIELD>", found: source.name },
        ),
      );
    }
    const name = source.name;
    const read: SourceReader = (row) => row[name] ?? null;
    return read;
  }
  if (isBatchColumn(source.name) && !(RECORD_PSEUDO_COLUMNS as readonly string[]).includes(source.name)) {
    errors.push(
      new MappingConfigError(
        field.location,
        `field ${field.name}: ${source.name} is only available in header and trailer records`,
        {
          expected: "a column or a record pseudo-column (_op, _token, _correlation_id, _commit_time)",
          found: source.name,
        },
      ),
    );
  }
  return recordReader(source.name, scope.statics);
}
