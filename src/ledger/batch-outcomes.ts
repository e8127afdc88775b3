// Records what a partner said about a batch: sent, to be retried at a time, or dead, with audit rows.
import type pg from "pg";
import { quoteIdentifier } from "../sql/sql-identifier.js";
import { type AuditRow, appendAudit } from "./audit.js";
import type { Queryable } from "./queryable.js";
import { storableText } from "./storable-text.js";

/** The batch this process recorded for: its id and the lease owner that claimed it. */
export interface OwnedBatch {
  readonly id: string;
  readonly connector: string;
  readonly attempt: number;
  /** The lease owner; outcomes are written only while the batch is still this owner's. */
  readonly owner: string;
}

export type ItemVerdict =
  | { readonly id: string; readonly token: string; readonly verdict: "sent"; readonly reference?: string }
  | {
      readonly id: string;
      readonly token: string;
      readonly verdict: "retry";
      readonly error: string;
      readonly reason: string;
      readonly delayMs: number;
      /** False when the partner never saw this item (the batch stopped before it): the attempt is given back. */
      readonly spent?: boolean;
    }
  | {
      readonly id: string;
      readonly token: string;
      readonly verdict: "dead";
      readonly error: string;
      readonly reason: string;
    };

export class BatchOutcomes {
  private readonly s: string;
  constructor(private readonly schema: string) {
    this.s = quoteIdentifier(schema);
  }

  /** Makes adapter bookkeeping durable before the adapter goes on (append offsets). */
  async saveAdapterState(client: Queryable, batchId: string, state: Readonly<Record<string, unknown>>): Promise<void> {
    await client.query(`update ${this.s}.batches set adapter_state = $2, updated_at = now() where id = $1`, [
      batchId,
      JSON.stringify(state),
    ]);
  }

  /**
   * Per-item verdicts (per-record adapters, or a whole drop batch that was sent). Items to be
   * retried leave the batch and wait on their own; the batch itself is finished.
   */
  async recordItems(client: pg.ClientBase, batch: OwnedBatch, verdicts: readonly ItemVerdict[]): Promise<boolean> {
    const s = this.s;
    await client.query("begin");
    try {
      if (!(await this.stillOwned(client, batch))) {
        await client.query("rollback");
        return false;
      }
      const sent = verdicts.filter((v) => v.verdict === "sent");
      const retry = verdicts.filter((v) => v.verdict === "retry");
      const dead = verdicts.filter((v) => v.verdict === "dead");
      if (sent.length > 0) {
        await client.query(
          `update ${s}.deliveries d set state = 'sent', sent_at = now(), updated_at = now(), last_error = null,
                  partner_reference = r.reference
             from json_to_recordset($1::json) as r(id bigint, reference text)
            where d.id = r.id and d.state = 'sending'`,
          [
            JSON.stringify(
              sent.map((v) => ({
                id: v.id,
                reference: v.verdict === "sent" && v.reference !== undefined ? storableText(v.reference) : null,
              })),
            ),
          ],
        );
        await client.query(`update ${s}.connectors set last_success_at = now() where connector = $1`, [
          batch.connector,
        ]);
      }
      if (retry.length > 0) {
        await client.query(
          `update ${s}.deliveries d set state = 'retrying', batch_id = null, last_error = r.error, updated_at = now(),
                  next_attempt_at = now() + r.delay_ms * interval '1 millisecond',
                  attempts = case when r.spent then d.attempts else greatest(d.attempts - 1, 0) end
             from json_to_recordset($1::json) as r(id bigint, error text, delay_ms bigint, spent boolean)
            where d.id = r.id and d.state = 'sending'`,
          [
            JSON.stringify(
              retry.map((v) => ({
                id: v.id,
                error: v.verdict === "retry" ? storableText(v.error) : "",
                delay_ms: v.verdict === "retry" ? Math.round(v.delayMs) : 0,
                spent: v.verdict !== "retry" || v.spent !== false,
              })),
            ),
          ],
        );
      }
      if (dead.length > 0) {
        await client.query(
          `update ${s}.deliveries d set state = 'dead', last_error = r.error, updated_at = now()
             from json_to_recordset($1::json) as r(id bigint, error text)
            where d.id = r.id and d.state = 'sending'`,
          [JSON.stringify(dead.map((v) => ({ id: v.id, error: v.verdict === "dead" ? storableText(v.error) : "" })))],
        );
      }
      await client.query(
        `update ${s}.batches set state = 'sent', lease_until = null, last_error = null, updated_at = now() where id = $1`,
        [batch.id],
      );
      await appendAudit(
        client,
        this.schema,
        verdicts.map((v) => auditFor(v, batch)),
      );
      await client.query("commit");
      return true;
    } catch (error) {
      await client.query("rollback").catch(() => undefined);
      throw error;
    }
  }

  /**
   * A drop batch failed as a whole: it keeps its members and its name, and is attempted again
   * at `delayMs` ('retry'), or goes to the dead letters with its members ('dead').
   */
  async recordBatchFailure(
    client: pg.ClientBase,
    batch: OwnedBatch & { items: readonly { id: string; token: string }[] },
    verdict: "retry" | "dead",
    answer: string,
    reason: string,
    delayMs: number,
  ): Promise<boolean> {
    const s = this.s;
    const error = storableText(answer);
    await client.query("begin");
    try {
      if (!(await this.stillOwned(client, batch))) {
        await client.query("rollback");
        return false;
      }
      await client.query(
        `update ${s}.batches set state = $2, lease_until = null, last_error = $3, updated_at = now(),
                next_attempt_at = now() + $4 * interval '1 millisecond'
          where id = $1`,
        [batch.id, verdict === "dead" ? "dead" : "retrying", error, Math.round(delayMs)],
      );
      await client.query(
        `update ${s}.deliveries set state = $2, last_error = $3, updated_at = now(),
                next_attempt_at = now() + $4 * interval '1 millisecond'
          where batch_id = $1 and state = 'sending'`,
        [batch.id, verdict === "dead" ? "dead" : "retrying", error, Math.round(delayMs)],
      );
      await appendAudit(
        client,
        this.schema,
        batch.items.map((i) =>
          auditFor(
            verdict === "dead"
              ? { id: i.id, token: i.token, verdict: "dead", error, reason }
              : { id: i.id, token: i.token, verdict: "retry", error, reason, delayMs },
            batch,
          ),
        ),
      );
      await client.query("commit");
      return true;
    } catch (caught) {
      await client.query("rollback").catch(() => undefined);
      throw caught;
    }
  }

  /** Gives a batch back without spending the attempt (the connector became held mid-way). */
  async releaseBatch(client: pg.ClientBase, batch: OwnedBatch, answer: string): Promise<boolean> {
    const error = storableText(answer);
    await client.query("begin");
    try {
      if (!(await this.stillOwned(client, batch))) {
        await client.query("rollback");
        return false;
      }
      await client.query(
        `update ${this.s}.batches set state = 'retrying', attempts = greatest(attempts - 1, 0), lease_until = null,
                last_error = $2, next_attempt_at = now(), updated_at = now() where id = $1`,
        [batch.id, error],
      );
      await client.query(
        `update ${this.s}.deliveries set state = 'retrying', attempts = greatest(attempts - 1, 0), last_error = $2,
                updated_at = now() where batch_id = $1 and state = 'sending'`,
        [batch.id, error],
      );
      await client.query("commit");
      return true;
    } catch (caught) {
      await client.query("rollback").catch(() => undefined);
      throw caught;
    }
  }

  /**
   * Locks the batch and tells whether this owner still holds it: a process whose lease ran out
   * (a long pause, a lost connection) must not overwrite what the process that took over records.
   */
  private async stillOwned(client: pg.ClientBase, batch: OwnedBatch): Promise<boolean> {
    const r = await client.query(
      `select 1 from ${this.s}.batches where id = $1 and owner = $2 and state = 'sending' and attempts = $3 for update`,
      [batch.id, batch.owner, batch.attempt],
    );
    return r.rows.length > 0;
  }
}

function auditFor(v: ItemVerdict, batch: Pick<OwnedBatch, "id" | "connector" | "attempt">): AuditRow {
  const base = { deliveryId: v.id, token: v.token, connector: batch.connector, attempt: batch.attempt };
  switch (v.verdict) {
    case "sent":
      return { ...base, event: "sent", detail: { batch: batch.id, reference: v.reference ?? null } };
    case "retry":
      return {
        ...base,
        event: "failed",
        error: v.error,
        detail: { batch: batch.id, reason: v.reason, retryInMs: v.delayMs },
      };
    case "dead":
      return { ...base, event: "dead", error: v.error, detail: { batch: batch.id, reason: v.reason } };
  }
}
