// Fixed-width records assembled as bytes: text fields through the connector's code page, binary pictures spliced raw, plus batch header/trailer records.
import type { Row } from "../change/value.js";
import { type Decimal, formatFixed, parseDecimalText, sumDecimals } from "./decimal.js";
import { MappingError } from "./errors.js";
import type { CompiledField } from "./field.js";
import { cellText } from "./formatter.js";
import { readBinary, readPacked, readZoned } from "./pic.js";
import type { RenderContext } from "./pseudo-columns.js";
import { type TextCodec, UnmappableCharacterError } from "./text-codec.js";
import { describeValue, RawBytes } from "./value-text.js";

export interface PlacedField {
  readonly field: CompiledField;
  readonly offset: number;
  readonly width: number;
}

/** Where each field sits in a record; `length` excludes the terminator. */
export interface FixedWidthLayout {
  readonly fields: readonly PlacedField[];
  readonly length: number;
}

export function layoutOf(fields: readonly CompiledField[]): FixedWidthLayout {
  const placed: PlacedField[] = [];
  let offset = 0;
  for (const field of fields) {
    if (field.dropped) continue;
    const width = field.width ?? 0;
    placed.push({ field, offset, width });
    offset += width;
  }
  return { fields: placed, length: offset };
}

/** Renders one record: every field at its offset, then the terminator. */
export function renderFixedWidth(
  layout: FixedWidthLayout,
  codec: TextCodec,
  terminator: Buffer,
  row: Row,
  context: RenderContext,
): Buffer {
  const out = Buffer.allocUnsafe(layout.length + terminator.length);
  for (const placed of layout.fields) {
    const cell = placed.field.evaluate(row, context);
    if (cell instanceof RawBytes) {
      cell.bytes.copy(out, placed.offset);
      continue;
    }
    const text = cell === null ? "" : cellText(cell);
    let written: number;
    try {
      written = codec.encodeInto(text, out, placed.offset);
    } catch (error) {
      if (!(error instanceof UnmappableCharacterError)) throw error;
      throw new MappingError({
        field: placed.field.name,
        reason: error.message,
        valueDescription: describeValue(text, placed.field.pii),
      });
    }
    if (written !== placed.width) {
      throw new MappingError({
        field: placed.field.name,
        reason: `encodes to ${written} bytes in ${codec.encoding}, the field is ${placed.width} bytes wide`,
        valueDescription: describeValue(text, placed.field.pii),
      });
    }
  }
  terminator.copy(out, layout.length);
  return out;
}

/** The numeric value a rendered field holds, read back from its bytes. */
function readField(placed: PlacedField, bytes: Buffer, codec: TextCodec): Decimal | undefined {
  const p = placed.field.picture;
  if (p?.usage === "packed") return readPacked(p, bytes);
  if (p?.usage === "binary") return readBinary(p, bytes);
  const text = codec.decode(bytes);
  if (p) return readZoned(p, text);
  return parseDecimalText(text);
}

/**
 * Totals of numeric data fields over a batch's records, read back from the bytes that were
 * rendered, so a trailer's total always agrees with the file the partner receives.
 */
export function fieldTotals(
  layout: FixedWidthLayout,
  fieldNames: readonly string[],
  records: readonly Buffer[],
  codec: TextCodec,
  recordLength: number,
): Map<string, string> {
  const totals = new Map<string, string>();
  for (const name of fieldNames) {
    const placed = layout.fields.find((f) => f.field.name === name);
    if (!placed) continue;
    const values: Decimal[] = [];
    records.forEach((record, i) => {
      if (record.length !== recordLength) {
        throw new MappingError({
          field: `_sum_${name}`,
          reason: `record ${i + 1} is ${record.length} bytes, this layout's records are ${recordLength}`,
          valueDescription: `${record.length} bytes`,
        });
      }
      const bytes = record.subarray(placed.offset, placed.offset + placed.width);
      const value = readField(placed, bytes, codec);
      if (!value) {
        throw new MappingError({
          field: `_sum_${name}`,
          reason: `record ${i + 1}: field ${name} does not hold a number`,
          valueDescription: `${bytes.length} bytes`,
        });
      }
      values.push(value);
    });
    const total = sumDecimals(values);
    const scale = placed.field.picture?.fractionDigits ?? total.scale;
    totals.set(name, formatFixed(total, scale));
  }
  return totals;
}
