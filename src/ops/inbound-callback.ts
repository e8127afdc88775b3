// Parses a partner callback's JSON body: the correlation id it quotes, its verdict
// (status: accepted | rejected), the partner's reference and message.
import type { AnswerStatus } from "../ledger/inbound.js";

/** Where partners put the delivery's correlation id or token, in order of preference. */
export const CORRELATION_FIELDS = ["correlationId", "correlation_id", "token", "idempotencyKey", "idempotency_key"];

/** Correlation ids and tokens are short printable ASCII; anything else cannot be one of ours. */
const CORRELATION_TEXT = /^[\x21-\x7e]{1,200}$/;

/** Where partners put their own reference and their message (a rejection's reason). */
export const REFERENCE_FIELDS = ["reference", "partnerReference", "ref"];
export const MESSAGE_FIELDS = ["message", "reason"];

/** Longer references and messages are cut: they end up in logs and dead-letter reasons. */
const MAX_TEXT = 2000;

export type ParsedCallback =
  | {
      readonly ok: true;
      readonly correlation: string;
      readonly status: AnswerStatus;
      readonly reference: string | null;
      readonly message: string | null;
      readonly document: Readonly<Record<string, unknown>>;
    }
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
  const status = answerStatus(record.status);
  if (status === undefined) {
    return { ok: false, reason: `status must be "accepted" or "rejected" (absent means accepted)` };
  }
  const reference = textField(record, REFERENCE_FIELDS);
  const message = textField(record, MESSAGE_FIELDS);
  if (reference === undefined || message === undefined) {
    return { ok: false, reason: `${REFERENCE_FIELDS[0]} and ${MESSAGE_FIELDS[0]} must be text or numbers` };
  }
  return { ok: true, correlation: value, status, reference, message, document: record };
}

/** A callback without a status is a confirmation, as before verdicts existed. */
export function answerStatus(value: unknown): AnswerStatus | undefined {
  if (value === undefined || value === null) return "accepted";
  if (typeof value !== "string") return undefined;
  const normalized = value.trim().toLowerCase();
  return normalized === "accepted" || normalized === "rejected" ? normalized : undefined;
}

/** null when absent, undefined when present but not text. */
function textField(record: Record<string, unknown>, names: readonly string[]): string | null | undefined {
  const name = names.find((n) => record[n] !== undefined && record[n] !== null);
  if (name === undefined) return null;
  const value = record[name];
  if (typeof value === "number") return String(value);
  if (typeof value !== "string") return undefined;
  return value.slice(0, MAX_TEXT);
}
