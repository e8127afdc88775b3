// Parses a partner callback's JSON body and finds the correlation id it quotes.

/** Where partners put the delivery's correlation id or token, in order of preference. */
export const CORRELATION_FIELDS = ["correlationId", "correlation_id", "token", "idempotencyKey", "idempotency_key"];

/** Correlation ids and tokens are short printable ASCII; anything else cannot be one of ours. */
const CORRELATION_TEXT = /^[\x21-\x7e]{1,200}$/;

export type ParsedCallback =
  | { readonly ok: true; readonly correlation: string; readonly document: Readonly<Record<string, unknown>> }
  | { readonly ok: false; readonly reason: string };

export function parseCallback(body: Buffer): ParsedCallback {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(body);
  } catch {
    // A decoding failure is the verdict itself: the body is rejected as malformed.
    return { ok: false, reason: "the body is not UTF-8 text" };
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    // As above: the parse error is the answer to the partner, nothing to record beyond the 400.
    return { ok: false, reason: "the body is not JSON" };
  }
  if (typeof document !== "object" || document === null || Array.isArray(document)) {
    return { ok: false, reason: "the body must be a JSON object" };
  }
  const record = document as Record<string, unknown>;
  const field = CORRELATION_FIELDS.find((name) => record[name] !== undefined && record[name] !== null);
  if (field === undefined) {
    return { ok: false, reason: `the body names no delivery: expected one of ${CORRELATION_FIELDS.join(", ")}` };
  }
  const value = record[field];
  if (typeof value !== "string" || !CORRELATION_TEXT.test(value)) {
    return { ok: false, reason: `${field} must be a correlation id or token (printable text, at most 200 characters)` };
  }
  return { ok: true, correlation: value, document: record };
}
