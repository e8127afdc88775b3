// The one rule for text that goes into the ledger: PostgreSQL text and jsonb cannot hold NUL
// (nor json's \u0000 escape once read as text), and a lone UTF-16 surrogate has no UTF-8 form.
// Partner answers, error messages and application payloads pass through here before storage.

// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what PostgreSQL text refuses.
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** True when `text` holds a character no PostgreSQL text value can store. */
export function hasUnstorableText(text: string): boolean {
  UNSTORABLE.lastIndex = 0;
  const found = UNSTORABLE.test(text);
  UNSTORABLE.lastIndex = 0;
  return found;
}

/**
 * Text PostgreSQL can store: NUL becomes the visible escape `\0` and a lone surrogate becomes
 * U+FFFD, so an operator reading the ledger still sees that something was there.
 */
export function storableText(text: string): string {
  if (!hasUnstorableText(text)) return text;
  return text.replace(UNSTORABLE, (c) => (c === "\u0000" ? "\\0" : "\ufffd"));
}

/** The same rule through a JSON-like value: every string and every object key. */
export function storableJson(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return storableText(value);
  if (value === null || typeof value !== "object") return value;
  // Deeper than any audit detail or answer needs: kept as its JSON text, or named when even that
  // is too deep to write (JSON.stringify recurses: tens of thousands of levels overflow the stack).
  if (depth > 200) return storableText(jsonTextOrNote(value));
  if (Array.isArray(value)) return value.map((v) => storableJson(v, depth + 1));
  if (Buffer.isBuffer(value) || value instanceof Date) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[storableText(k)] = storableJson(v, depth + 1);
  return out;
}

/** True when a value (text, array, JSON document, at any depth) holds text PostgreSQL cannot store. */
export function holdsUnstorableText(value: unknown, depth = 0): boolean {
  if (typeof value === "string") return hasUnstorableText(value);
  if (value === null || typeof value !== "object" || depth > 10_000) return false;
  if (Buffer.isBuffer(value) || value instanceof Date) return false;
  if (Array.isArray(value)) return value.some((v) => holdsUnstorableText(v, depth + 1));
  return Object.entries(value).some(([k, v]) => hasUnstorableText(k) || holdsUnstorableText(v, depth + 1));
}

function jsonTextOrNote(value: unknown): string {
  try {
    return JSON.stringify(value) ?? "";
  } catch (error) {
    if (error instanceof RangeError) return "(nested too deep to keep)";
    throw error;
  }
}
