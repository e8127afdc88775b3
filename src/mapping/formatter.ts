// What every formatter is: a step over a cell, compiled with its field's scope, plus the argument checks they share.

import { UnchangedToast } from "../change/value.js";
import { MappingError } from "./errors.js";
import type { FormatterCall } from "./expression.js";
import type { NumericPicture } from "./pic.js";
import type { TextMeasure } from "./text-codec.js";
import type { FitSpec } from "./text-fit.js";
import type { TimeZone } from "./time-zone.js";
import { type Cell, describeValue, valueText } from "./value-text.js";

export const MAX_WIDTH = 65_535;
const NEEDS_NFC = /[\u0300-\uffff]/;

/** What a formatter needs to know about the field and target it serves. */
export interface FormatterScope {
  readonly field: string;
  /** The field reads a PII column: errors must not show its value. */
  readonly pii: boolean;
  readonly zone: TimeZone;
  readonly measure: TextMeasure;
  readonly truncate: boolean;
  /** ess.yaml `hashKey`: the secret `hash` is keyed with (HMAC-SHA256); unkeyed, a hashed SSN is found by trying every one. */
  readonly hashKey?: string;
}

export type Step = (cell: Cell) => Cell;

export interface CompiledFormatter {
  readonly name: string;
  /** Absent for `drop`, which removes the field instead of transforming it. */
  readonly step?: Step;
  /** The exact width the formatter produces (width, lpad, rpad, pic), in the target's units. */
  readonly fit?: FitSpec;
  /** The width is implied (format: with fixed-length directives): fixed-width records apply it, other formats do not. */
  readonly impliedFit?: boolean;
  /** Binary pictures (COMP-3, COMP) produce raw bytes of this length. */
  readonly bytes?: number;
  readonly picture?: NumericPicture;
  /** Produces a decimal number's text (number:D): JSON renders it as a number. */
  readonly numeric?: boolean;
  /** mask, hash or drop: the field may read a PII column. */
  readonly protects: boolean;
  readonly drops: boolean;
}

/** A formatter that is unknown or has a bad argument; `expected`/`found` feed the configuration error. */
export class FormatterConfigError extends Error {
  override readonly name = "FormatterConfigError";
  readonly expected: string;
  readonly found: string;
  constructor(message: string, { expected, found }: { readonly expected: string; readonly found: string }) {
    super(message);
    this.expected = expected;
    this.found = found;
  }
}

/** Throws the record's MappingError; the value is described, or withheld for a PII column. */
export function fail(scope: FormatterScope, reason: string, cell: Cell): never {
  throw new MappingError({ field: scope.field, reason, valueDescription: describeValue(cell, scope.pii) });
}

/**
 * The text a formatter works on. Text is NFC-normalised, so a decomposed 'é' (e + U+0301)
 * counts and encodes as the one character a code page has for it.
 */
export function cellText(cell: Cell): string {
  const text = valueText(cell);
  return NEEDS_NFC.test(text) ? text.normalize("NFC") : text;
}

/** The call as written, for error messages. */
export function callText(call: FormatterCall): string {
  return call.arg === undefined ? call.name : `${call.name}:${call.arg}`;
}

export function noArgument(call: FormatterCall): void {
  if (call.arg !== undefined) {
    throw new FormatterConfigError(`formatter ${call.name} takes no argument`, {
      expected: `${call.name} without an argument`,
      found: callText(call),
    });
  }
}

export function requireArgument(call: FormatterCall, expected: string): string {
  if (call.arg === undefined || call.arg === "") {
    throw new FormatterConfigError(`formatter ${call.name} needs an argument: ${expected}`, {
      expected,
      found: callText(call),
    });
  }
  return call.arg;
}

export function integerArgument(call: FormatterCall, text: string, min: number, max: number, expected: string): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new FormatterConfigError(`${call.name}: ${JSON.stringify(text)} is not ${expected}`, {
      expected,
      found: callText(call),
    });
  }
  return Number(text);
}

/** A column value that pgoutput did not send (unchanged TOAST) cannot be rendered. */
export function assertSent(cell: Cell, scope: Pick<FormatterScope, "field">): void {
  if (cell instanceof UnchangedToast) {
    throw new MappingError({
      field: scope.field,
      reason:
        "the column's TOASTed value was unchanged and not sent by the server (set REPLICA IDENTITY FULL on the table)",
      valueDescription: describeValue(cell, false),
    });
  }
}
