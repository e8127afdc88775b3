// What compiling one field needs to know of its target: the record format, PII columns, its role and the static columns.
import type { RecordFormat } from "../config/types.js";
import type { FormatterScope } from "./formatter.js";
import type { StaticColumns } from "./pseudo-columns.js";

export interface FieldScope extends Omit<FormatterScope, "field" | "pii"> {
  readonly format: RecordFormat;
  readonly pii: ReadonlySet<string>;
  /** Header and trailer fields read batch pseudo-columns instead of the row. */
  readonly role: "record" | "header" | "trailer";
  readonly statics: StaticColumns;
}
