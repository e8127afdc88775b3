// The two ways a mapping fails: a configuration it cannot compile, and a record it cannot produce.
import { ConfigError } from "../config/config-error.js";
import type { SourceLocation } from "../config/types.js";

/**
 * A mapping that cannot be compiled (unknown formatter, bad PIC, missing width, unmasked PII…),
 * pointing at the field's YAML location. A ConfigError, so it prints and exits like one.
 */
export class MappingConfigError extends ConfigError {
  declare readonly expected: string;
  declare readonly found: string;

  /** `details` is required here: a mapping error always says what was expected and what was found. */
  constructor(
    readonly location: SourceLocation,
    reason: string,
    details: { readonly expected: string; readonly found: string },
  ) {
    super(location, reason, details);
  }
}

/**
 * One record that cannot be produced (a value too wide, a character the code page lacks, a
 * NULL where a number is required). The delivery goes to the dead letters with this reason.
 * `valueDescription` never holds the raw value of a PII column.
 */
export class MappingError extends Error {
  override readonly name = "MappingError";
  readonly field: string;
  readonly reason: string;
  readonly valueDescription: string;
  constructor({
    field,
    reason,
    valueDescription,
  }: {
    readonly field: string;
    readonly reason: string;
    readonly valueDescription: string;
  }) {
    super(`field ${field}: ${reason} (value: ${valueDescription})`);
    this.field = field;
    this.reason = reason;
    this.valueDescription = valueDescription;
  }
}
