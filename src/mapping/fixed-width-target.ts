// A fixed-width target: the data record layout, its terminator in the code page, and the batch header/trailer records around a drop file.
import type { FieldConfig, TargetConfig } from "../config/types.js";
import { MappingConfigError } from "./errors.js";
import type { CompiledField } from "./field.js";
import type { FieldScope } from "./field-scope.js";
import { type FixedWidthLayout, fieldTotals, layoutOf, renderFixedWidth } from "./fixed-width.js";
import { batchRow, type RenderContext, type StaticColumns, SUM_PREFIX } from "./pseudo-columns.js";
import { at, type CompiledTarget, compileFields } from "./target-common.js";
import { type TextCodec, UnmappableCharacterError } from "./text-codec.js";

const TERMINATORS: Readonly<Record<TargetConfig["terminator"], string>> = { crlf: "\r\n", lf: "\n", none: "" };

export interface FixedWidthParts {
  readonly layout: FixedWidthLayout;
  readonly header?: FixedWidthLayout;
  readonly trailer?: FixedWidthLayout;
  readonly terminator: Buffer;
  readonly sums: readonly string[];
}

/** The layouts of a fixed-width target, checking its header/trailer fields and sums. */
export function fixedWidthParts(
  target: TargetConfig,
  fields: readonly CompiledField[],
  scope: FieldScope,
  codec: TextCodec,
  errors: MappingConfigError[],
): FixedWidthParts | undefined {
  const layout = layoutOf(fields);
  let terminator: Buffer;
  try {
    terminator = codec.encode(TERMINATORS[target.terminator]);
  } catch (error) {
    if (!(error instanceof UnmappableCharacterError)) throw error;
    errors.push(
      new MappingConfigError(at(target.location, "terminator"), error.message, {
        expected: "lf or none",
        found: target.terminator,
      }),
    );
    return undefined;
  }
  const sums = new Set<string>();
  const batchLayout = (role: "header" | "trailer", config: readonly FieldConfig[] | undefined) => {
    if (!config) return undefined;
    const batchFields = compileFields(config, { ...scope, role }, errors);
    for (const field of batchFields) {
      if (!field.column?.startsWith(SUM_PREFIX)) continue;
      const name = field.column.slice(SUM_PREFIX.length);
      const summed = layout.fields.find((f) => f.field.name === name);
      if (!summed) {
        errors.push(
          new MappingConfigError(
            field.location,
            `field ${field.name}: ${field.column} names no field of this target's records`,
            {
              expected: `_sum_ and the name of a data field (${layout.fields.map((f) => f.field.name).join(", ")})`,
              found: field.column,
            },
          ),
        );
      }
      sums.add(name);
    }
    const batch = layoutOf(batchFields);
    // RECFM=F: every record of the data set has the same length, control records included.
    if (target.terminator === "none" && batch.length !== layout.length && batchFields.length === config.length) {
      errors.push(
        new MappingConfigError(
          at(target.location, role),
          `the ${role} record is ${batch.length} bytes but the data records are ${layout.length} bytes`,
          {
            expected: `${layout.length} bytes, the length of the data records (terminator: none)`,
            found: `${batch.length} bytes`,
          },
        ),
      );
    }
    return batch;
  };
  const header = batchLayout("header", target.header);
  const trailer = batchLayout("trailer", target.trailer);
  return {
    layout,
    terminator,
    sums: [...sums],
    ...(header ? { header } : {}),
    ...(trailer ? { trailer } : {}),
  };
}

/** The compiled target over its layouts. */
export function fixedWidthTarget(
  base: Pick<CompiledTarget, "connector" | "format" | "index" | "fieldNames" | "columns">,
  parts: FixedWidthParts,
  codec: TextCodec,
  statics: StaticColumns,
): CompiledTarget {
  const { layout, header, trailer, terminator, sums } = parts;
  const recordLength = layout.length + terminator.length;
  return {
    ...base,
    recordLength,
    fixedWidth: {
      record: layout,
      terminator,
      encoding: codec.encoding,
      ...(header ? { header } : {}),
      ...(trailer ? { trailer } : {}),
    },
    render: (row, context) => renderFixedWidth(layout, codec, terminator, row, context),
    renderBatchBody(records, batch) {
      if (!header && !trailer) return Buffer.concat(records);
      const totals = fieldTotals(layout, sums, records, codec, recordLength);
      const row = batchRow(batch, records.length, totals, statics);
      const context: RenderContext = { op: "insert", token: "", correlationId: "", commitTime: batch.createdAt };
      const control = (l: FixedWidthLayout | undefined) =>
        l ? [renderFixedWidth(l, codec, terminator, row, context)] : [];
      return Buffer.concat([...control(header), ...records, ...control(trailer)]);
    },
  };
}
