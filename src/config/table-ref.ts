// Table names as written in a mapping ("public.permits", "permits", "\"Hms\".\"Permits\"") to a TableRef.
import type { TableRef } from "../change/change.js";

const PART = /^(?:"((?:[^"]|"")+)"|([A-Za-z_][A-Za-z0-9_$]*))(?:\.|$)/;

export const TABLE_REF_TEXT = "a table name such as public.permits (schema defaults to public)";

/**
 * Unquoted names are folded to lower case as PostgreSQL folds them, so `Permits` names the
 * same table the replication stream reports as `permits`; quoted names are kept exactly.
 */
export function parseTableRef(text: string, defaultSchema = "public"): TableRef | undefined {
  const parts: string[] = [];
  let rest = text.trim();
  while (rest !== "") {
    const match = PART.exec(rest);
    if (!match) return undefined;
    parts.push(match[1] !== undefined ? match[1].replaceAll('""', '"') : (match[2] ?? "").toLowerCase());
    const consumed = match[0];
    rest = rest.slice(consumed.length);
    if (consumed.endsWith(".") && rest === "") return undefined;
  }
  if (parts.length === 1 && parts[0] !== undefined) return { schema: defaultSchema, name: parts[0] };
  if (parts.length === 2 && parts[0] !== undefined && parts[1] !== undefined)
    return { schema: parts[0], name: parts[1] };
  return undefined;
}
