// One target field compiled from its expression: where its value comes from, its formatter chain as closures, and its width in the record.

import type { Row } from "../change/value.js";
import type { FieldConfig, SourceLocation } from "../config/types.js";
import { MappingConfigError } from "./errors.js";
import type { FieldScope } from "./field-scope.js";
import { parseField, readerOf } from "./field-spec.js";
import {
  assertSent,
  type CompiledFormatter,
  FormatterConfigError,
  type FormatterScope,
  type Step,
} from "./formatter.js";
import { compileFormatter } from "./formatters.js";
import type { NumericPicture } from "./pic.js";
import { RECORD_PSEUDO_COLUMNS, type RenderContext, type SourceReader } from "./pseudo-columns.js";
import type { Cell } from "./value-text.js";
import { fitStep } from "./width-formatters.js";

export interface CompiledField {
  readonly name: string;
  readonly location: SourceLocation;
  /** The row column the field reads, when it reads one (not a constant or pseudo-column). */
  readonly column?: string;
  /** `drop`: the field is left out of the record altogether. */
  readonly dropped: boolean;
  /** The field reads a PII column: errors withhold its value. */
  readonly pii: boolean;
  /** A column without formatters: JSON keeps the value's own type. */
  readonly bare: boolean;
  /** The last formatter is number:D: JSON writes a number. */
  readonly numeric: boolean;
  /** Exact width in a fixed-width record (bytes of the encoding). */
  readonly width?: number;
  /** The field holds raw bytes (COMP-3, COMP). */
  readonly binary: boolean;
  /** The numeric picture that shaped the field's bytes, for batch totals. */
  readonly picture?: NumericPicture;
  evaluate(row: Row, context: RenderContext): Cell;
}

export interface FieldCompileResult {
  readonly field?: CompiledField;
  readonly errors: readonly MappingConfigError[];
}

function isPii(column: string, pii: ReadonlySet<string>): boolean {
  return pii.has(column) || pii.has(column.toLowerCase());
}

function expressionText(field: FieldConfig): string {
  return typeof field.spec === "string" ? field.spec : JSON.stringify(field.spec);
}

/** Compiles one field; reports every problem it has, with the field's location. */
export function compileField(field: FieldConfig, scope: FieldScope): FieldCompileResult {
  const errors: MappingConfigError[] = [];
  const parsed = parseField(field, scope, errors);
  if (!parsed) return { errors };
  const read = readerOf(parsed.source, field, scope, errors);
  const column =
    parsed.source.kind === "column" && !(RECORD_PSEUDO_COLUMNS as readonly string[]).includes(parsed.source.name)
      ? parsed.source.name
      : undefined;
  const pii = column !== undefined && scope.role === "record" && isPii(column, scope.pii);
  const formatterScope: FormatterScope = { ...scope, field: field.name, pii };
  const compiled: CompiledFormatter[] = [];
  for (const call of parsed.calls) {
    try {
      compiled.push(compileFormatter(call, formatterScope));
    } catch (error) {
      if (!(error instanceof FormatterConfigError)) throw error;
      errors.push(
        new MappingConfigError(field.location, `field ${field.name}: ${error.message}`, {
          expected: error.expected,
          found: error.found,
        }),
      );
    }
  }
  if (parsed.longFit) {
    compiled.push({
      name: "width",
      step: fitStep(parsed.longFit, formatterScope),
      fit: parsed.longFit,
      protects: false,
      drops: false,
    });
  }
  const dropped = compiled.some((f) => f.drops);
  if (pii && !compiled.some((f) => f.protects) && compiled.some((f) => f.name === "hash")) {
    errors.push(
      new MappingConfigError(
        field.location,
        `field ${field.name}: column ${column} is listed in pii and an unkeyed hash (or one keyed in the mapping) ` +
          // biome-ignore lint/suspicious/noTemplateCurlyInString: ${ESS_HASH_KEY} is configuration syntax
          "is undone by hashing every possible value; set hashKey: ${ESS_HASH_KEY} in ess.yaml and write hash without an argument",
        { expected: "hash keyed with ess.yaml's hashKey, mask or drop", found: expressionText(field) },
      ),
    );
  } else if (pii && !compiled.some((f) => f.protects)) {
    errors.push(
      new MappingConfigError(
        field.location,
        `field ${field.name}: column ${column} is listed in pii and must be masked, hashed or dropped before it leaves`,
        { expected: "mask, hash or drop", found: expressionText(field) },
      ),
    );
  }
  if (dropped) {
    return errors.length > 0 ? { errors } : { field: droppedField(field, column, pii), errors };
  }
  const steps = compiled.flatMap((f) => (f.step ? [f.step] : []));
  let sizingIndex = -1;
  for (let i = 0; i < compiled.length; i++) {
    if (compiled[i]!.fit || compiled[i]!.bytes !== undefined) sizingIndex = i;
  }
  const sizing = sizingIndex >= 0 ? compiled[sizingIndex] : undefined;
  const binaryIndex = compiled.findIndex((f) => f.bytes !== undefined);
  if (binaryIndex >= 0 && binaryIndex !== compiled.length - 1) {
    errors.push(
      new MappingConfigError(
        field.location,
        `field ${field.name}: a binary picture produces bytes and must be the last formatter`,
        { expected: "pic:… COMP-3 or COMP as the last formatter", found: expressionText(field) },
      ),
    );
  }
  if (binaryIndex >= 0 && scope.format !== "fixed-width") {
    errors.push(
      new MappingConfigError(
        field.location,
        `field ${field.name}: COMP-3 and COMP pictures are only possible in fixed-width records`,
        { expected: "a DISPLAY picture (binary pictures belong in fixed-width records)", found: expressionText(field) },
      ),
    );
  }
  let width: number | undefined;
  // A formatter that did not compile may have been the width; do not report a missing one too.
  if (scope.format === "fixed-width" && compiled.length === parsed.calls.length + (parsed.longFit ? 1 : 0)) {
    if (!sizing) {
      errors.push(
        new MappingConfigError(
          field.location,
          `field ${field.name}: a fixed-width field needs a width (fix: ${widthFix(field)})`,
          {
            expected: "a width: width:N, pic:…, lpad:N, rpad:N or the long form's width",
            found: expressionText(field),
          },
        ),
      );
    } else {
      width = sizing.bytes ?? sizing.fit?.size;
      // Formatters after the one that set the width (e.g. `| upper`) may change the length.
      if (sizing.fit && (sizing.impliedFit || sizingIndex < compiled.length - 1)) {
        steps.push(fitStep(sizing.fit, formatterScope));
      }
    }
  }
  if (errors.length > 0) return { errors };
  const last = compiled[compiled.length - 1];
  return {
    field: {
      name: field.name,
      location: field.location,
      ...(column !== undefined ? { column } : {}),
      dropped: false,
      pii,
      bare: parsed.source.kind === "column" && compiled.length === 0,
      numeric: last?.numeric === true,
      ...(width !== undefined ? { width } : {}),
      binary: binaryIndex >= 0,
      ...(sizing?.picture ? { picture: sizing.picture } : {}),
      evaluate: chain(read, steps, field.name),
    },
    errors,
  };
}

function droppedField(field: FieldConfig, column: string | undefined, pii: boolean): CompiledField {
  return {
    name: field.name,
    location: field.location,
    ...(column !== undefined ? { column } : {}),
    dropped: true,
    pii,
    bare: false,
    numeric: false,
    binary: false,
    evaluate: () => null,
  };
}

/** The reader and steps as one closure; short chains are unrolled (this is the per-record hot path). */
function chain(read: SourceReader, steps: readonly Step[], name: string): CompiledField["evaluate"] {
  const scope = { field: name };
  const [a, b] = steps;
  if (steps.length === 0) {
    return (row, context) => {
      const cell = read(row, context);
      assertSent(cell, scope);
      return cell;
    };
  }
  if (steps.length === 1 && a) {
    return (row, context) => {
      const cell = read(row, context);
      assertSent(cell, scope);
      return a(cell);
    };
  }
  if (steps.length === 2 && a && b) {
    return (row, context) => {
      const cell = read(row, context);
      assertSent(cell, scope);
      return b(a(cell));
    };
  }
  return (row, context) => {
    let cell: Cell = read(row, context);
    assertSent(cell, scope);
    for (const step of steps) cell = step(cell);
    return cell;
  };
}

/** The field's own expression with a width added, e.g. `id | width:10`, as the fix to copy. */
function widthFix(field: FieldConfig): string {
  const spec = field.spec;
  if (typeof spec !== "string") return `add width: 10 to { from: ${spec.from ?? "…"} }`;
  return `${field.name}: ${spec.trim()} | width:10`;
}
