// Picks the receipt a partner gave (a confirmation id, a message id) out of its JSON or SOAP answer.

/** Field names that carry a receipt, best first; compared without case, "_" or "-". */
const REFERENCE_FIELDS = [
  "confirmationid",
  "confirmationnumber",
  "confirmation",
  "referenceid",
  "reference",
  "receiptid",
  "receipt",
  "trackingid",
  "trackingnumber",
  "messageid",
  "id",
];

/** Response headers that carry a receipt, best first. */
export const REFERENCE_HEADERS = ["x-confirmation-id", "x-message-id", "x-resource-id", "location"];

/** Longest reference kept; the ledger stores it for operators, not a copy of the response. */
const MAX_REFERENCE = 200;

function normalise(key: string): string {
  return key.toLowerCase().replace(/[_-]/g, "");
}

function scalar(value: unknown): string | undefined {
  if (typeof value === "string" && value.trim() !== "") return value.trim();
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return undefined;
}

function fieldsOf(value: unknown): [string, unknown][] {
  return value && typeof value === "object" && !Array.isArray(value) ? Object.entries(value) : [];
}

/**
 * The best receipt field in an answer object, looking at its own fields first, then one level down
 * (answers are often wrapped: `{ data: { id } }`, `{ RescheduleResult: { ConfirmationId } }`).
 */
export function findReference(value: unknown): string | undefined {
  const levels = [fieldsOf(value), fieldsOf(value).flatMap(([, nested]) => fieldsOf(nested))];
  for (const fields of levels) {
    for (const wanted of REFERENCE_FIELDS) {
      for (const [key, field] of fields) {
        if (normalise(key) !== wanted) continue;
        const found = scalar(field);
        if (found !== undefined) return clip(found);
      }
    }
  }
  return undefined;
}

/** A reference for an answer without a receipt field: its compact JSON, clipped. */
export function describeAnswer(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text === undefined || text === "" || text === "{}" ? undefined : clip(text);
}

function clip(text: string): string {
  return text.length > MAX_REFERENCE ? `${text.slice(0, MAX_REFERENCE)}…` : text;
}
