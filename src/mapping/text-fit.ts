// Fitting text to an exact width: padding, and overflow as an error or a truncation.
import type { TextMeasure } from "./text-codec.js";

export type Align = "left" | "right";

export interface FitSpec {
  readonly size: number;
  readonly align: Align;
  /** One character that measures one unit in the target (validated when the mapping compiles). */
  readonly pad: string;
}

/**
 * The text padded to exactly `size` units, or the reason it cannot be: it is too long and the
 * target does not truncate. Truncation keeps the start of left-aligned text and the end of
 * right-aligned text (the low-order digits, as COBOL MOVE does for numbers).
 */
export function fitText(
  text: string,
  spec: FitSpec,
  measure: TextMeasure,
  truncate: boolean,
): string | { failure: string } {
  let kept = text;
  let length = measure.length(text);
  if (length === spec.size) return text;
  if (length > spec.size) {
    if (!truncate) {
      return { failure: `${length} ${measure.unit} do not fit width ${spec.size} (overflow: error)` };
    }
    kept = spec.align === "left" ? measure.keepStart(text, spec.size) : measure.keepEnd(text, spec.size);
    length = measure.length(kept);
  }
  const padding = spec.pad.repeat(spec.size - length);
  return spec.align === "left" ? kept + padding : padding + kept;
}
