// Records what a partner said about a batch: sent, to be retried at a time, or dead, with audit rows.
// A batch covering a run of deliveries keeps the verdict for all of them on the batch row; only
// a delivery whose verdict differs from the batch's is written (it takes a state of its own).
import { type RawBuilder, sql } from "kysely";
import type pg from "pg";
import { type AuditRow, appendAudit } from "./audit.js";
import type { BatchRun } from "./batch-claims.js";
import { type LedgerDb, ledgerDb, ledgerTable } from "./ledger-db.js";
import type { Queryable } from "./queryable.js";
import { storableText } from "./storable-text.js";

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

/** The batch this process recorded for: its id and the lease owner that claimed it. */
export interface OwnedBatch {
  readonly id: string;
  readonly connector: string;
  readonly attempt: number;
  /** The lease owner; outcomes are written only while the batch is still this owner's. */
  readonly owner: string;
  /** Set for a batch covering a run (members without a state of their own). */
  readonly run?: BatchRun | null;
}

export class BatchOutcomes {
  private readonly batches: RawBuilder<unknown>;
  private readonly items: RawBuilder<unknown>;

  constructor(private readonly schema: string) {
    this.batches = ledgerTable(schema, "batches");
    this.items = ledgerTable(schema, "delivery_items");
  }

  private db(client: Queryable): LedgerDb {
    return ledgerDb(client, this.schema);
  }

  /** Makes adapter bookkeeping durable before the adapter goes on (append offsets). */
  async saveAdapterState(client: Queryable, batchId: string, state: Readonly<Record<string, unknown>>): Promise<void> {
    await this.db(client)
      .updateTable("batches")
      .set({ adapter_state: JSON.stringify(state), updated_at: sql<Date>`now()` })
      .where("id", "=", batchId)
      .execute();
  }

  /**
   * Per-item verdicts (per-record adapters, or a whole drop batch that was sent). Items to be
   * retried leave the batch and wait on their own; the batch itself is finished.
   */
  async recordItems(client: pg.ClientBase, batch: OwnedBatch, verdicts: readonly ItemVerdict[]): Promise<boolean> {
    const db = this.db(client);
    const items = this.items;
    const batches = this.batches;
    return this.whileOwned(client, batch, async () => {
      const sent = verdicts.filter((v) => v.verdict === "sent");
      const retry = verdicts.filter((v) => v.verdict === "retry");
      const dead = verdicts.filter((v) => v.verdict === "dead");
      const run = batch.run ?? null;
      // Rows of a run have no state of their own until now; rows of a listed batch have one.
      const member = run ? sql`not d.own_state` : sql`d.own_state and d.state = 'sending'`;
      // A reference the whole run shares (a drop's file) is kept once, on the batch.
      const shared = sharedReference(sent);
      if (sent.length > 0) {
        const referenced = sent.filter((v) => v.verdict === "sent" && v.reference && v.reference !== shared);
        if (!run) {
          const json = JSON.stringify(
            sent.map((v) => ({
              id: v.id,
              reference: v.verdict === "sent" && v.reference !== undefined ? storableText(v.reference) : null,
            })),
          );
          await sql`
            update ${items} d set state = 'sent', sent_at = now(), updated_at = now(), last_error = null,
                   partner_reference = r.reference
              from json_to_recordset(${json}::json) as r(id bigint, reference text)
             where d.id = r.id and ${member}`.execute(db);
        } else if (referenced.length > 0) {
          // The batch holds the state; a partner's own reference for a record is kept on the record.
          const json = JSON.stringify(
            referenced.map((v) => ({
              id: v.id,
              reference: v.verdict === "sent" && v.reference !== undefined ? storableText(v.reference) : null,
            })),
          );
          await sql`
            update ${items} d set partner_reference = r.reference
              from json_to_recordset(${json}::json) as r(id bigint, reference text)
             where d.id = r.id and ${member}`.execute(db);
        }
        await db
          .updateTable("connectors")
          .set({ last_success_at: sql<Date>`now()` })
          .where("connector", "=", batch.connector)
          .execute();
      }
      if (retry.length > 0) {
        const json = JSON.stringify(
          retry.map((v) => ({
            id: v.id,
            error: v.verdict === "retry" ? storableText(v.error) : "",
            delay_ms: v.verdict === "retry" ? Math.round(v.delayMs) : 0,
            spent: v.verdict !== "retry" || v.spent !== false,
          })),
        );
        await sql`
          update ${items} d set own_state = true, state = 'retrying', batch_id = null, last_error = r.error,
                 updated_at = now(), next_attempt_at = now() + r.delay_ms * interval '1 millisecond',
                 attempts = greatest(case when d.own_state then d.attempts else ${batch.attempt}::integer end
                                     - case when r.spent then 0 else 1 end, 0),
                 first_attempt_at = coalesce(d.first_attempt_at, (select created_at from ${batches} where id = ${batch.id}))
            from json_to_recordset(${json}::json) as r(id bigint, error text, delay_ms bigint, spent boolean)
           where d.id = r.id and ${member}`.execute(db);
      }
      if (dead.length > 0) {
        const json = JSON.stringify(
          dead.map((v) => ({ id: v.id, error: v.verdict === "dead" ? storableText(v.error) : "" })),
        );
        await sql`
          update ${items} d set own_state = true, state = 'dead', last_error = r.error, updated_at = now(),
                 batch_id = ${batch.id}::bigint, attempts = case when d.own_state then d.attempts else ${batch.attempt}::integer end,
                 first_attempt_at = coalesce(d.first_attempt_at, (select created_at from ${batches} where id = ${batch.id}::bigint))
            from json_to_recordset(${json}::json) as r(id bigint, error text)
           where d.id = r.id and ${member}`.execute(db);
      }
      await sql`
        update ${batches} set state = 'sent', lease_until = null, last_error = null, updated_at = now(),
               sent_at = now(), item_count = item_count - ${retry.length + dead.length},
               partner_reference = ${run ? storableOrNull(shared) : null}
         where id = ${batch.id}`.execute(db);
      const audit: AuditRow[] = run
        ? [
            ...(sent.length > 0
              ? [
                  {
                    event: "sent" as const,
                    connector: batch.connector,
                    attempt: batch.attempt,
                    detail: {
                      batch: batch.id,
                      firstId: run.firstId,
                      lastId: run.lastId,
                      count: sent.length,
                      reference: shared ?? null,
                    },
                  },
                ]
              : []),
            ...verdicts
              .filter((v) => v.verdict !== "sent" || (v.reference && v.reference !== shared))
              .map((v) => auditFor(v, batch)),
          ]
        : verdicts.map((v) => auditFor(v, batch));
      await appendAudit(client, this.schema, audit);
    });
  }

  /**
   * A drop batch failed as a whole: it keeps its members and its name, and is attempted again
   * at `delayMs` ('retry'), or goes to the dead letters with its members ('dead').
   */
  async recordBatchFailure(
    client: pg.ClientBase,
    batch: OwnedBatch & { readonly items: readonly { id: string; token: string }[] },
    verdict: "retry" | "dead",
    answer: string,
    reason: string,
    delayMs: number,
  ): Promise<boolean> {
    const db = this.db(client);
    const error = storableText(answer);
    const state = verdict === "dead" ? "dead" : "retrying";
    const nextAttemptAt = sql<Date>`now() + ${Math.round(delayMs)} * interval '1 millisecond'`;
    return this.whileOwned(client, batch, async () => {
      await db
        .updateTable("batches")
        .set({
          state,
          lease_until: null,
          last_error: error,
          updated_at: sql<Date>`now()`,
          next_attempt_at: nextAttemptAt,
        })
        .where("id", "=", batch.id)
        .execute();
      const run = batch.run ?? null;
      if (!run) {
        await db
          .updateTable("delivery_items")
          .set({ state, last_error: error, updated_at: sql<Date>`now()`, next_attempt_at: nextAttemptAt })
          .where("batch_id", "=", batch.id)
          .where("own_state", "=", true)
          .where("state", "=", "sending")
          .execute();
      }
      // A run's members follow the batch: one audit row for the hop.
      await appendAudit(
        client,
        this.schema,
        run
          ? [
              {
                event: verdict === "dead" ? "dead" : "failed",
                connector: batch.connector,
                attempt: batch.attempt,
                error,
                detail: {
                  batch: batch.id,
                  firstId: run.firstId,
                  lastId: run.lastId,
                  count: batch.items.length,
                  reason,
                  ...(verdict === "retry" ? { retryInMs: delayMs } : {}),
                },
              },
            ]
          : batch.items.map((i) =>
              auditFor(
                verdict === "dead"
                  ? { id: i.id, token: i.token, verdict: "dead", error, reason }
                  : { id: i.id, token: i.token, verdict: "retry", error, reason, delayMs },
                batch,
              ),
            ),
      );
    });
  }

  /** Gives a batch back without spending the attempt (the connector became held mid-way). */
  async releaseBatch(client: pg.ClientBase, batch: OwnedBatch, answer: string): Promise<boolean> {
    const error = storableText(answer);
    const db = this.db(client);
    return this.whileOwned(client, batch, async () => {
      await db
        .updateTable("batches")
        .set({
          state: "retrying",
          attempts: sql<number>`greatest(attempts - 1, 0)`,
          lease_until: null,
          last_error: error,
          next_attempt_at: sql<Date>`now()`,
          updated_at: sql<Date>`now()`,
        })
        .where("id", "=", batch.id)
        .execute();
      if (!batch.run) {
        await db
          .updateTable("delivery_items")
          .set({
            state: "retrying",
            attempts: sql<number>`greatest(attempts - 1, 0)`,
            last_error: error,
            updated_at: sql<Date>`now()`,
          })
          .where("batch_id", "=", batch.id)
          .where("own_state", "=", true)
          .where("state", "=", "sending")
          .execute();
      }
    });
  }

  /**
   * Runs `record` in one transaction if this owner still holds the batch; false (nothing
   * written) when the lease was lost to another process.
   */
  private async whileOwned(client: pg.ClientBase, batch: OwnedBatch, record: () => Promise<void>): Promise<boolean> {
    await client.query("begin");
    try {
      if (!(await this.stillOwned(client, batch))) {
        await client.query("rollback");
        return false;
      }
      await record();
      await client.query("commit");
      return true;
    } catch (error) {
      await client.query("rollback").catch(() => undefined);
      throw error;
    }
  }

  /**
   * Locks the batch and tells whether this owner still holds it: a process whose lease ran out
   * (a long pause, a lost connection) must not overwrite what the process that took over records.
   */
  private async stillOwned(client: pg.ClientBase, batch: OwnedBatch): Promise<boolean> {
    const held = await this.db(client)
      .selectFrom("batches")
      .select(sql<number>`1`.as("held"))
      .where("id", "=", batch.id)
      .where("owner", "=", batch.owner)
      .where("state", "=", "sending")
      .where("attempts", "=", batch.attempt)
      .forUpdate()
      .executeTakeFirst();
    return held !== undefined;
  }
}

function storableOrNull(text: string | undefined): string | null {
  return text === undefined ? null : storableText(text);
}

/** The reference every sent item of a batch shares, if they all have the same one. */
function sharedReference(sent: readonly ItemVerdict[]): string | undefined {
  const first = sent[0];
  if (first?.verdict !== "sent" || !first.reference) return undefined;
  const reference = first.reference;
  return sent.every((v) => v.verdict === "sent" && v.reference === reference) ? reference : undefined;
}

function auditFor(v: ItemVerdict, batch: OwnedBatch): AuditRow {
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
