// Forms and leases delivery batches: takes over expired or due batches first, then claims due
// deliveries in id order, honouring the connector's ordering rule, with FOR UPDATE SKIP LOCKED.
import type pg from "pg";
import type { Ordering } from "../config/types.js";
import { quoteIdentifier } from "../sql/sql-identifier.js";
import { appendAudit } from "./audit.js";
import type { Queryable } from "./queryable.js";

export interface ClaimedItem {
  readonly id: string;
  /** This delivery's attempt number (items of a new batch may have failed before in other batches). */
  readonly attempt: number;
  readonly token: string;
  readonly correlationId: string;
  readonly orderingKey: string;
  readonly payload: Buffer;
  readonly commitTime: Date;
  /** When this delivery was first attempted (this attempt, for a first one): retry.maxAge counts from here. */
  readonly firstAttemptAt: Date;
  /** From the application event it was made from: a tighter maxAttempts, its correlation and trace ids. */
  readonly maxAttempts: number | null;
  readonly appCorrelationId: string | null;
  readonly traceId: string | null;
}

export interface ClaimedBatch {
  readonly id: string;
  readonly connector: string;
  readonly sequence: number;
  readonly name: string | null;
  readonly createdAt: Date;
  /** This attempt's number (1 for the first). */
  readonly attempt: number;
  readonly mapping: string;
  readonly targetIndex: number;
  readonly adapterState: Readonly<Record<string, unknown>> | null;
  readonly items: readonly ClaimedItem[];
  /** True when the batch was taken over from an earlier attempt (crash or retry). */
  readonly resumed: boolean;
}

export interface ClaimOptions {
  readonly connector: string;
  readonly ordering: Ordering;
  readonly maxRecords: number;
  readonly maxWaitMs: number;
  readonly owner: string;
  readonly leaseMs: number;
  /**
   * The connector's retry.maxAttempts. A batch taken over beyond it had attempts whose outcome
   * was never recorded (the process died each time, or the ledger refused the answer): it goes
   * to the dead letters instead of being sent once more, so no poison batch loops forever.
   */
  readonly maxAttempts?: number;
  /** Drop adapters name a batch once, before the first attempt. */
  readonly nameFor?: (batch: { connector: string; sequence: number; createdAt: Date }) => string;
  /**
   * Append-mode drops grow one file: no new batch while an earlier one is unresolved (sending
   * under a live lease, or waiting for its retry), or that batch's saved offset stops matching.
   */
  readonly serial?: boolean;
}

/** Separates claimers of one connector across processes; the constant keeps it apart from the migrator's key. */
const CLAIM_LOCK_NAMESPACE = 0x455354; // "EST"

export class BatchClaims {
  private readonly s: string;
  constructor(private readonly schema: string) {
    this.s = quoteIdentifier(schema);
  }

  /**
   * Claims the next batch for a connector, or null when nothing is due (or a partial batch
   * is still inside its maxWait). The returned batch is leased to `owner` until `leaseMs`.
   */
  async claim(client: pg.ClientBase, options: ClaimOptions): Promise<ClaimedBatch | null> {
    await client.query("begin");
    try {
      const locked = await client.query<{ ok: boolean }>("select pg_try_advisory_xact_lock($1, hashtext($2)) as ok", [
        CLAIM_LOCK_NAMESPACE,
        options.connector,
      ]);
      if (!locked.rows[0]?.ok) {
        await client.query("rollback");
        return null;
      }
      const batch = (await this.takeOverBatch(client, options)) ?? (await this.formBatch(client, options));
      await client.query("commit");
      return batch;
    } catch (error) {
      await client.query("rollback").catch(() => undefined);
      throw error;
    }
  }

  /** Extends a lease while a long send is still running, so nobody takes the batch over. */
  async renewLease(client: Queryable, batchId: string, owner: string, leaseMs: number): Promise<boolean> {
    const r = await client.query(
      `update ${this.s}.batches set lease_until = now() + $3 * interval '1 millisecond', updated_at = now()
        where id = $1 and owner = $2 and state = 'sending'`,
      [batchId, owner, leaseMs],
    );
    return (r.rowCount ?? 0) > 0;
  }

  /** A batch left 'sending' by a dead process (lease expired), or a drop batch whose retry is due. */
  private async takeOverBatch(client: pg.ClientBase, options: ClaimOptions): Promise<ClaimedBatch | null> {
    const found = await client.query<BatchRow>(
      `update ${this.s}.batches b set state = 'sending', owner = $2, attempts = b.attempts + 1,
              lease_until = now() + $3 * interval '1 millisecond', updated_at = now()
        where b.id = (
          select id from ${this.s}.batches
           where connector = $1
             and ((state = 'sending' and lease_until < now()) or (state = 'retrying' and next_attempt_at <= now()))
           order by id limit 1
           for update skip locked)
        returning b.id, b.sequence, b.name, b.created_at, b.attempts, b.adapter_state`,
      [options.connector, options.owner, options.leaseMs],
    );
    const row = found.rows[0];
    if (!row) return null;
    if (options.maxAttempts !== undefined && row.attempts > options.maxAttempts) {
      await this.deadLetterExhausted(client, options.connector, row.id, row.attempts - 1);
      return null;
    }
    const items = await client.query<ItemRow>(
      `update ${this.s}.deliveries set state = 'sending', attempts = $2, updated_at = now(),
              first_attempt_at = coalesce(first_attempt_at, now())
        where batch_id = $1 and state in ('sending', 'retrying')
        returning id, token, correlation_id, ordering_key, payload, commit_time, mapping, target_index, attempts,
                  first_attempt_at, max_attempts, app_correlation_id, trace_id`,
      [row.id, row.attempts],
    );
    if (items.rows.length === 0) {
      // Every member was replayed or purged meanwhile: nothing left to send under this name.
      await client.query(`update ${this.s}.batches set state = 'sent', lease_until = null where id = $1`, [row.id]);
      return null;
    }
    const sorted = items.rows.sort((a, b) => Number(BigInt(a.id) - BigInt(b.id)));
    await this.auditAttempt(client, options.connector, sorted, row.attempts);
    return toBatch(options.connector, row, sorted, true);
  }

  private async deadLetterExhausted(
    client: pg.ClientBase,
    connector: string,
    batchId: string,
    attempts: number,
  ): Promise<void> {
    const error = `no outcome was recorded after ${attempts} attempts (maxAttempts): the process stopped or the ledger refused the answer each time`;
    await client.query(
      `update ${this.s}.batches set state = 'dead', attempts = $2, lease_until = null, last_error = $3, updated_at = now() where id = $1`,
      [batchId, attempts, error],
    );
    const dead = await client.query<{ id: string; token: string }>(
      `update ${this.s}.deliveries set state = 'dead', last_error = $2, updated_at = now()
        where batch_id = $1 and state in ('sending', 'retrying') returning id, token`,
      [batchId, error],
    );
    await appendAudit(
      client,
      this.schema,
      dead.rows.map((d) => ({
        event: "dead" as const,
        deliveryId: d.id,
        token: d.token,
        connector,
        attempt: attempts,
        error,
        detail: { batch: batchId, reason: "attempts_exhausted_unrecorded" },
      })),
    );
  }

  private async formBatch(client: pg.ClientBase, options: ClaimOptions): Promise<ClaimedBatch | null> {
    const s = this.s;
    if (options.serial) {
      const open = await client.query(
        `select 1 from ${s}.batches where connector = $1 and state in ('sending', 'retrying') limit 1`,
        [options.connector],
      );
      if (open.rows.length > 0) return null;
    }
    const candidate = `d.connector = $1 and d.state in ('pending', 'retrying') and d.batch_id is null and d.next_attempt_at <= now()`;
    // Before locking anything: is a batch due at all (full, waited long enough, or a retry)?
    // While deliveries trickle in, most polls end here instead of locking rows only to let go.
    const probe = await client.query<{ n: number; oldest: Date | null; retry: boolean }>(
      `select count(*)::int as n, min(created_at) as oldest, coalesce(bool_or(attempts > 0), false) as retry
         from (select d.created_at, d.attempts from ${s}.deliveries d where ${candidate} order by d.id limit $2) due`,
      [options.connector, options.maxRecords],
    );
    const ready = probe.rows[0];
    if (!ready || ready.n === 0) return null;
    const waited = ready.oldest !== null && Date.now() - ready.oldest.getTime() >= options.maxWaitMs;
    if (ready.n < options.maxRecords && !waited && !ready.retry) return null;
    // An earlier delivery still on its way (sending, or retrying and not yet due) holds every
    // later one of its key ('key') or every later one at all ('connector'). Pending deliveries
    // are always claimable, so only in-flight rows can hold, and they are found through a
    // small partial index: one index probe per candidate, never a scan of the backlog.
    const holds = `e.connector = $1 and e.state in ('sending', 'retrying')
           and not (e.state = 'retrying' and e.batch_id is null and e.next_attempt_at <= now())`;
    let barrier = "";
    if (options.ordering === "key") {
      barrier = `and not exists (select 1 from ${s}.deliveries e where ${holds} and e.ordering_key = d.ordering_key and e.id < d.id)`;
    } else if (options.ordering === "connector") {
      barrier = `and d.id < coalesce((select min(e.id) from ${s}.deliveries e where ${holds}), 9223372036854775807)`;
    }
    const sql = `select d.id, d.token, d.correlation_id, d.ordering_key, d.payload, d.commit_time, d.mapping,
                        d.target_index, d.created_at, d.attempts, coalesce(d.first_attempt_at, now()) as first_attempt_at,
                        d.max_attempts, d.app_correlation_id, d.trace_id
                   from ${s}.deliveries d
                  where ${candidate} ${barrier}
                  order by d.id limit $2 for update of d skip locked`;
    // Statistics often say "nothing in flight" (they lag behind bursts), and the planner then
    // compares every candidate with every in-flight row. Per-candidate index probes in id order
    // are right for any backlog size, so the claim asks for them explicitly.
    await client.query(
      "set local enable_material = off; set local enable_hashjoin = off; set local enable_mergejoin = off",
    );
    const due = await client.query<ItemRow & { created_at: Date; attempts: number }>(sql, [
      options.connector,
      options.maxRecords,
    ]);
    await client.query(
      "set local enable_material = on; set local enable_hashjoin = on; set local enable_mergejoin = on",
    );
    if (due.rows.length === 0) return null;
    // One batch holds one mapping target (one record layout); cut at the first change of
    // target so nothing later overtakes an earlier delivery of another target.
    const first = due.rows[0] as ItemRow & { created_at: Date; attempts: number };
    const members = [];
    for (const row of due.rows) {
      if (row.mapping !== first.mapping || row.target_index !== first.target_index) break;
      members.push(row);
    }
    const full = members.length >= options.maxRecords;
    const waitedEnough = Date.now() - first.created_at.getTime() >= options.maxWaitMs;
    const isRetry = members.some((m) => m.attempts > 0);
    if (!full && !waitedEnough && !isRetry) return null;

    const seq = await client.query<{ sequence: string }>(
      `insert into ${s}.connectors (connector, next_sequence) values ($1, 2)
       on conflict (connector) do update set next_sequence = ${s}.connectors.next_sequence + 1
       returning next_sequence - 1 as sequence`,
      [options.connector],
    );
    const sequence = Number(seq.rows[0]?.sequence);
    const createdAt = new Date();
    const name = options.nameFor?.({ connector: options.connector, sequence, createdAt }) ?? null;
    const batch = await client.query<BatchRow>(
      `insert into ${s}.batches (connector, sequence, name, state, attempts, lease_until, owner, created_at)
       values ($1, $2, $3, 'sending', 1, now() + $4 * interval '1 millisecond', $5, $6)
       returning id, sequence, name, created_at, attempts, adapter_state`,
      [options.connector, sequence, name, options.leaseMs, options.owner, createdAt],
    );
    const row = batch.rows[0] as BatchRow;
    await client.query(
      `update ${s}.deliveries set state = 'sending', batch_id = $1, attempts = attempts + 1, updated_at = now(),
              first_attempt_at = coalesce(first_attempt_at, now())
        where id = any($2::bigint[])`,
      [row.id, members.map((m) => m.id)],
    );
    const attempted = members.map((m) => ({ ...m, attempts: m.attempts + 1 }));
    await this.auditAttempt(client, options.connector, attempted, null);
    return toBatch(options.connector, row, attempted, false);
  }

  private async auditAttempt(
    client: pg.ClientBase,
    connector: string,
    items: readonly (ItemRow & { attempts?: number })[],
    attempt: number | null,
  ): Promise<void> {
    await appendAudit(
      client,
      this.schema,
      items.map((i) => ({
        event: "attempted" as const,
        deliveryId: i.id,
        token: i.token,
        connector,
        attempt: attempt ?? i.attempts ?? 1,
        ...(i.trace_id || i.app_correlation_id
          ? { detail: { traceId: i.trace_id, correlationId: i.app_correlation_id } }
          : {}),
      })),
    );
  }
}

interface BatchRow {
  id: string;
  sequence: string;
  name: string | null;
  created_at: Date;
  attempts: number;
  adapter_state: Record<string, unknown> | null;
}

interface ItemRow {
  id: string;
  /** The attempt now being made. */
  attempts?: number;
  token: string;
  correlation_id: string;
  ordering_key: string;
  payload: Buffer | null;
  commit_time: Date;
  mapping: string;
  target_index: number;
  first_attempt_at: Date;
  max_attempts: number | null;
  app_correlation_id: string | null;
  trace_id: string | null;
}

function toBatch(connector: string, row: BatchRow, items: readonly ItemRow[], resumed: boolean): ClaimedBatch {
  const first = items[0] as ItemRow;
  return {
    id: row.id,
    connector,
    sequence: Number(row.sequence),
    name: row.name,
    createdAt: row.created_at,
    attempt: row.attempts,
    mapping: first.mapping,
    targetIndex: first.target_index,
    adapterState: row.adapter_state,
    resumed,
    items: items.map((i) => ({
      id: i.id,
      attempt: i.attempts ?? row.attempts,
      token: i.token,
      correlationId: i.correlation_id,
      orderingKey: i.ordering_key,
      payload: i.payload ?? Buffer.alloc(0),
      commitTime: i.commit_time,
      firstAttemptAt: i.first_attempt_at,
      maxAttempts: i.max_attempts,
      appCorrelationId: i.app_correlation_id,
      traceId: i.trace_id,
    })),
  };
}
