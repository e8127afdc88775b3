// Builds the plain objects that carry column values by name (Row), for both decoders.
import type { Value } from "../change/value.js";

/** Sets one column; a column named "__proto__" is kept as data rather than changing the prototype. */
export function setColumn(row: Record<string, Value>, name: string, value: Value): void {
  if (name === "__proto__") {
    Object.defineProperty(row, name, { value, enumerable: true, writable: true, configurable: true });
  } else {
    row[name] = value;
  }
}
