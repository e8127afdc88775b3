// Writes a partner's answer into an application table (connector `answers:`), inside the
// transaction that applies it: the agency's application sees the answer exactly when the ledger does.
import pg from "pg";
import type { AnswerTable, AnswerValue } from "../config/types.js";
import type { AnswerResult, PartnerAnswer } from "../ledger/inbound.js";

export async function writeAnswerRow(
  client: pg.ClientBase,
  table: AnswerTable,
  answer: Pick<PartnerAnswer, "connector" | "correlation" | "status" | "reference" | "message" | "via">,
  result: AnswerResult,
): Promise<void> {
  const values: Record<AnswerValue, unknown> = {
    correlationId: answer.correlation,
    status: answer.status,
    reference: answer.reference,
    message: answer.message,
    connector: answer.connector,
    deliveryId: result.kind === "applied" ? result.deliveryId : null,
    receiptId: result.kind === "applied" ? result.receiptId : null,
    receivedAt: new Date(),
    via: answer.via,
  };
  const q = (name: string) => pg.escapeIdentifier(name);
  const target = `${q(table.table.schema)}.${q(table.table.name)}`;
  const columns = table.columns.map((c) => q(c.column));
  const placeholders = table.columns.map((_, i) => `$${i + 1}`);
  let sql = `insert into ${target} (${columns.join(", ")}) values (${placeholders.join(", ")})`;
  if (table.key.length > 0) {
    const updates = table.columns
      .filter((c) => !table.key.includes(c.column))
      .map((c) => `${q(c.column)} = excluded.${q(c.column)}`);
    sql += ` on conflict (${table.key.map(q).join(", ")}) do ${updates.length > 0 ? `update set ${updates.join(", ")}` : "nothing"}`;
  }
  await client.query(
    sql,
    table.columns.map((c) => values[c.value]),
  );
}
