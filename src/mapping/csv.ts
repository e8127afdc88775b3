// CSV records (RFC 4180: quoted when needed, CRLF after every record), encoded in the connector's encoding.
import { stringify } from "csv-stringify/sync";
import type { Row } from "../change/value.js";
import { MappingError } from "./errors.js";
import type { CompiledField } from "./field.js";
import { cellText } from "./formatter.js";
import type { RenderContext } from "./pseudo-columns.js";
import { type TextCodec, UnmappableCharacterError } from "./text-codec.js";
import { describeValue } from "./value-text.js";

export interface CsvLayout {
  readonly fields: readonly CompiledField[];
  readonly delimiter: string;
}

// csv-stringify only quotes a field holding the whole record delimiter; a lone CR or LF
// inside a field must be quoted too, or a reader splits the record there.
const QUOTE_LINE_BREAKS = /[\r\n]/;

/** One CSV line (CRLF included) as text. */
export function csvLine(values: readonly string[], delimiter: string): string {
  return stringify([values], { delimiter, record_delimiter: "\r\n", quoted_match: QUOTE_LINE_BREAKS });
}

function encodeField(codec: TextCodec, field: CompiledField, text: string): void {
  try {
    codec.encode(text);
  } catch (error) {
    if (!(error instanceof UnmappableCharacterError)) throw error;
    throw new MappingError({
      field: field.name,
      reason: error.message,
      valueDescription: describeValue(text, field.pii),
    });
  }
}

/** Renders one record; NULL is an empty field. */
export function renderCsv(layout: CsvLayout, codec: TextCodec, row: Row, context: RenderContext): Buffer {
  const values: string[] = [];
  for (const field of layout.fields) {
    const cell = field.evaluate(row, context);
    const text = cell === null ? "" : cellText(cell);
    // Checked field by field so an unmappable character is reported with its field.
    encodeField(codec, field, text);
    values.push(text);
  }
  return codec.encode(csvLine(values, layout.delimiter));
}

/** The header row: the field names. */
export function csvHeader(layout: CsvLayout, codec: TextCodec): Buffer {
  const names = layout.fields.map((f) => f.name);
  for (const field of layout.fields) encodeField(codec, field, field.name);
  return codec.encode(csvLine(names, layout.delimiter));
}
