// COPY text format fields: tab-separated, \N for NULL, backslash escapes; text PostgreSQL cannot
// store (NUL, lone surrogates) is made storable first, as everywhere the ledger takes text.
import { storableText } from "./storable-text.js";

export function copyField(raw: string | null): string {
  if (raw === null) return "\\N";
  return copyStorableField(storableText(raw));
}

/**
 * A field that is storable by construction (the JSON text value-json.ts builds: its strings
 * passed the storable rule already): only COPY's escapes. Scanning every captured change's JSON
 * again for unstorable characters was a tenth of capture's time.
 */
export function copyStorableField(value: string): string {
  // Almost every field has nothing to escape; indexOf is much faster than a regular expression
  // on long strings.
  if (value.indexOf("\\") < 0 && value.indexOf("\n") < 0 && value.indexOf("\t") < 0 && value.indexOf("\r") < 0) {
    return value;
  }
  return value.replace(/[\\\t\n\r]/g, (c) => (c === "\\" ? "\\\\" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : "\\r"));
}

/** Lines per chunk of COPY text: a large write is never one huge string. */
const LINES_PER_CHUNK = 500;

/**
 * COPY text of `items`, one line each, in chunks of lines. Each chunk is one flat string (join):
 * a string built by += is a tree of its pieces, which COPY would flatten again. `afterFirstChunk`
 * runs once the first chunk is handed on, before the rest and the end.
 */
export function* copyLines<T>(
  items: readonly T[],
  line: (item: T) => string,
  afterFirstChunk?: () => void,
): Generator<string> {
  for (let start = 0; start < items.length; start += LINES_PER_CHUNK) {
    const lines: string[] = [];
    for (let i = start; i < Math.min(items.length, start + LINES_PER_CHUNK); i++) lines.push(line(items[i] as T));
    yield lines.join("");
    if (start === 0) afterFirstChunk?.();
  }
}
