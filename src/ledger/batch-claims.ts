// Forms and leases delivery batches. Takes over expired or due batches first; then claims due
// deliveries that carry a state of their own (held back, failed alone, replayed) in id order with
// FOR UPDATE SKIP LOCKED; otherwise takes the next contiguous run of the connector's new
// deliveries into one batch row without touching them. The connector's ordering rule holds
// across both: a delivery never overtakes an earlier unfinished one of its key (or connector).
import { type RawBuilder, sql } from "kysely";
import type pg from "pg";
import type { Ordering } from "../config/types.js";
import { appendAudit } from "./audit.js";
import { type LedgerDb, ledgerDb, ledgerTable } from "./ledger-db.js";
import type { Queryable } from "./queryable.js";
import { correlationIdOf } from "./token-lookup.js";

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

/** The contiguous run of deliveries a batch covers (its members have no state of their own). */
export interface BatchRun {
  readonly firstId: string;
  readonly lastId: string;
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
  /** Set when the batch covers a run: its state is its members' state. Null: members are listed by batch_id. */
  readonly run: BatchRun | null;
}

export interface ClaimOptions {
  readonly connector: string;
  readonly ordering: Ordering;
  readonly maxRecords: number;
  /**
   * A partial batch goes once its oldest delivery has waited this long since its change
   * committed (since it was stored, when that is earlier: a source clock ahead of the ledger's
   * never stretches the wait). Capture lag counts toward the wait instead of being added to it,
   * and a change that is already late is not held back further to fill a batch.
   */
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
  private readonly batches: RawBuilder<unknown>;
  private readonly items: RawBuilder<unknown>;
  private readonly connectors: RawBuilder<unknown>;

  constructor(private readonly schema: string) {
    this.batches = ledgerTable(schema, "batches");
    this.items = ledgerTable(schema, "delivery_items");
    this.connectors = ledgerTable(schema, "connectors");
  }

  private db(client: Queryable): LedgerDb {
    return ledgerDb(client, this.schema);
  }

  /**
   * Claims the next batch for a connector, or null when nothing is due (or a partial batch
   * is still inside its maxWait). The returned batch is leased to `owner` until `leaseMs`.
   */
  async claim(client: pg.ClientBase, options: ClaimOptions): Promise<ClaimedBatch | null> {
    await client.query("begin");
    try {
      const locked = await sql<{ ok: boolean }>`
        select pg_try_advisory_xact_lock(${CLAIM_LOCK_NAMESPACE}, hashtext(${options.connector})) as ok`.execute(
        this.db(client),
      );
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
    const r = await this.db(client)
      .updateTable("batches")
      .set({ lease_until: sql<Date>`now() + ${leaseMs} * interval '1 millisecond'`, updated_at: sql<Date>`now()` })
      .where("id", "=", batchId)
      .where("owner", "=", owner)
      .where("state", "=", "sending")
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  /** A batch left 'sending' by a dead process (lease expired), or a drop batch whose retry is due. */
  private async takeOverBatch(client: pg.ClientBase, options: ClaimOptions): Promise<ClaimedBatch | null> {
    const db = this.db(client);
    const found = await sql<BatchRow>`
      update ${this.batches} b set state = 'sending', owner = ${options.owner}, attempts = b.attempts + 1,
             lease_until = now() + ${options.leaseMs} * interval '1 millisecond', updated_at = now()
       where b.id = (
         select id from ${this.batches}
          where connector = ${options.connector}
            and ((state = 'sending' and lease_until < now()) or (state = 'retrying' and next_attempt_at <= now()))
          order by id limit 1
          for update skip locked)
       returning b.id, b.sequence, b.name, b.created_at, b.attempts, b.adapter_state, b.first_id, b.last_id`.execute(
      db,
    );
    const row = found.rows[0];
    if (!row) return null;
    if (options.maxAttempts !== undefined && row.attempts > options.maxAttempts) {
      await this.deadLetterExhausted(client, options.connector, row, row.attempts - 1);
      return null;
    }
    let items: ItemRow[];
    if (row.first_id !== null && row.last_id !== null) {
      // The run's members are the deliveries in it without a state of their own: those that
      // were replayed, confirmed or failed alone meanwhile have left it.
      const members = await sql<ItemRow>`
        select id, token, correlation_id, ordering_key, payload, commit_time, mapping, target_index,
               ${row.created_at}::timestamptz as first_attempt_at, max_attempts, app_correlation_id, trace_id
          from ${this.items}
         where connector = ${options.connector} and id between ${row.first_id} and ${row.last_id} and not own_state
         order by id`.execute(db);
      items = members.rows;
    } else {
      const members = await sql<ItemRow>`
        update ${this.items} set state = 'sending', attempts = ${row.attempts}, updated_at = now(),
               first_attempt_at = coalesce(first_attempt_at, now())
         where batch_id = ${row.id} and own_state and state in ('sending', 'retrying')
         returning id, token, correlation_id, ordering_key, payload, commit_time, mapping, target_index, attempts,
                   first_attempt_at, max_attempts, app_correlation_id, trace_id`.execute(db);
      items = members.rows.sort((a, b) => Number(BigInt(a.id) - BigInt(b.id)));
    }
    if (items.length === 0) {
      // Every member was replayed or purged meanwhile: nothing left to send under this name.
      await db.updateTable("batches").set({ state: "sent", lease_until: null }).where("id", "=", row.id).execute();
      return null;
    }
    const batch = toBatch(options.connector, row, items, true);
    await this.auditAttempt(client, batch);
    return batch;
  }

  private async deadLetterExhausted(
    client: pg.ClientBase,
    connector: string,
    batch: BatchRow,
    attempts: number,
  ): Promise<void> {
    const db = this.db(client);
    const error = `no outcome was recorded after ${attempts} attempts (maxAttempts): the process stopped or the ledger refused the answer each time`;
    await db
      .updateTable("batches")
      .set({ state: "dead", attempts, lease_until: null, last_error: error, updated_at: sql<Date>`now()` })
      .where("id", "=", batch.id)
      .execute();
    const detail = { batch: batch.id, reason: "attempts_exhausted_unrecorded" };
    if (batch.first_id !== null && batch.last_id !== null) {
      // The run's members are dead with their batch: one audit row for the hop.
      const members = await sql<{ n: number }>`
        select count(*)::int as n from ${this.items}
         where connector = ${connector} and id between ${batch.first_id} and ${batch.last_id} and not own_state`.execute(
        db,
      );
      const count = members.rows[0]?.n ?? 0;
      if (count > 0) {
        await appendAudit(client, this.schema, [
          {
            event: "dead",
            connector,
            attempt: attempts,
            error,
            detail: { ...detail, firstId: batch.first_id, lastId: batch.last_id, count },
          },
        ]);
      }
    }
    // Members with a state of their own follow it one by one.
    const dead = await db
      .updateTable("delivery_items")
      .set({ state: "dead", last_error: error, updated_at: sql<Date>`now()` })
      .where("batch_id", "=", batch.id)
      .where("own_state", "=", true)
      .where("state", "in", ["sending", "retrying"])
      .returning(["id", "token"])
      .execute();
    await appendAudit(
      client,
      this.schema,
      dead.map((d) => ({
        event: "dead" as const,
        deliveryId: d.id,
        token: d.token,
        connector,
        attempt: attempts,
        error,
        detail,
      })),
    );
  }

  private async formBatch(client: pg.ClientBase, options: ClaimOptions): Promise<ClaimedBatch | null> {
    if (options.serial) {
      const open = await this.db(client)
        .selectFrom("batches")
        .select(sql<number>`1`.as("open"))
        .where("connector", "=", options.connector)
        .where("state", "in", ["sending", "retrying"])
        .limit(1)
        .executeTakeFirst();
      if (open) return null;
    }
    const holders = await this.holders(client, options);
    const own = await this.ownCandidates(client, options, holders);
    if (own.ready) return this.claimOwn(client, options, own.members);
    // Under the connector rule nothing new goes while anything earlier is unfinished.
    if (options.ordering === "connector" && (holders.anyInFlight || own.waiting)) return null;
    return this.claimRun(client, options, holders);
  }

  /**
   * What is unfinished, by ordering key, with its smallest delivery id: deliveries with a state
   * of their own that are pending, on their way or waiting for a retry, and the members of runs
   * on their way or waiting for a retry. Few rows: the backlog of new deliveries is never read.
   */
  private async holders(client: pg.ClientBase, options: ClaimOptions): Promise<Holders> {
    if (options.ordering === "none") return { inFlight: new Map(), waiting: new Map(), anyInFlight: false };
    const connector = options.connector;
    const result = await sql<{ ordering_key: string; min_id: string; in_flight: boolean }>`
      select e.ordering_key, min(e.id)::text as min_id, true as in_flight
        from ${this.items} e
       where e.connector = ${connector} and e.own_state and e.state in ('sending', 'retrying')
         and not (e.state = 'retrying' and e.batch_id is null and e.next_attempt_at <= now())
       group by e.ordering_key
      union all
      select e.ordering_key, min(e.id)::text, false
        from ${this.items} e
       where e.connector = ${connector} and e.own_state and e.batch_id is null
         and (e.state = 'pending' or (e.state = 'retrying' and e.next_attempt_at <= now()))
       group by e.ordering_key
      union all
      select i.ordering_key, min(i.id)::text, true
        from ${this.batches} b
        join ${this.items} i
          on i.connector = b.connector and i.id between b.first_id and b.last_id and not i.own_state
       where b.connector = ${connector} and b.first_id is not null and b.state in ('sending', 'retrying')
       group by i.ordering_key`.execute(this.db(client));
    const inFlight = new Map<string, bigint>();
    const waiting = new Map<string, bigint>();
    for (const r of result.rows) {
      const into = r.in_flight ? inFlight : waiting;
      const id = BigInt(r.min_id);
      const known = into.get(r.ordering_key);
      if (known === undefined || id < known) into.set(r.ordering_key, id);
    }
    return { inFlight, waiting, anyInFlight: inFlight.size > 0 };
  }

  /** Due deliveries with a state of their own, in id order, that no earlier unfinished one holds. */
  private async ownCandidates(
    client: pg.ClientBase,
    options: ClaimOptions,
    holders: Holders,
  ): Promise<{ ready: boolean; waiting: boolean; members: OwnRow[] }> {
    const due = await sql<OwnRow>`
      select d.id, d.token, d.correlation_id, d.ordering_key, d.payload, d.commit_time, d.mapping, d.target_index,
             least(d.commit_time, d.created_at) as waiting_since, d.attempts,
             coalesce(d.first_attempt_at, now()) as first_attempt_at,
             d.max_attempts, d.app_correlation_id, d.trace_id
        from ${this.items} d
       where d.connector = ${options.connector} and d.own_state and d.state in ('pending', 'retrying')
         and d.batch_id is null and d.next_attempt_at <= now()
       order by d.id limit ${options.maxRecords} for update of d skip locked`.execute(this.db(client));
    if (due.rows.length === 0) return { ready: false, waiting: holders.waiting.size > 0, members: [] };
    const minInFlight = [...holders.inFlight.values()].reduce<bigint | null>(
      (min, id) => (min === null || id < min ? id : min),
      null,
    );
    const members: OwnRow[] = [];
    for (const row of due.rows) {
      const id = BigInt(row.id);
      if (options.ordering === "key") {
        const earlier = holders.inFlight.get(row.ordering_key);
        if (earlier !== undefined && earlier < id) continue;
      } else if (options.ordering === "connector" && minInFlight !== null && minInFlight < id) {
        continue;
      }
      // One batch holds one mapping target (one record layout); cut at the first change of
      // target so nothing later overtakes an earlier delivery of another target.
      const first = members[0];
      if (first && (row.mapping !== first.mapping || row.target_index !== first.target_index)) break;
      members.push(row);
    }
    const first = members[0];
    if (!first) return { ready: false, waiting: true, members };
    const full = members.length >= options.maxRecords;
    const waited = Date.now() - first.waiting_since.getTime() >= options.maxWaitMs;
    const isRetry = members.some((m) => m.attempts > 0);
    return { ready: full || waited || isRetry, waiting: true, members };
  }

  /** A batch of deliveries with a state of their own: each member is marked with it. */
  private async claimOwn(client: pg.ClientBase, options: ClaimOptions, members: OwnRow[]): Promise<ClaimedBatch> {
    const sequence = await this.nextSequence(client, options.connector, null);
    const row = await this.insertBatch(client, options, sequence, null);
    await sql`
      update ${this.items} set state = 'sending', batch_id = ${row.id}, attempts = attempts + 1, updated_at = now(),
             first_attempt_at = coalesce(first_attempt_at, now())
       where id = any(${members.map((m) => m.id)}::bigint[])`.execute(this.db(client));
    const batch = toBatch(
      options.connector,
      row,
      members.map((m) => ({ ...m, attempts: m.attempts + 1 })),
      false,
    );
    await this.auditAttempt(client, batch);
    return batch;
  }

  /**
   * The next run of the connector's new deliveries, from its claim cursor, into one batch row:
   * the deliveries themselves are read, not written. A delivery an unfinished earlier one of its
   * key holds back is given a state of its own (pending) and waits outside the run.
   *
   * The cursor may pass every id this transaction sees because writers of new deliveries never
   * overlap: one capture session per slot writes them, one transaction at a time, and a backfill
   * locks delivery_items against capture while it writes. A lower id can therefore not commit
   * after a higher one has been seen.
   */
  private async claimRun(client: pg.ClientBase, options: ClaimOptions, holders: Holders): Promise<ClaimedBatch | null> {
    const db = this.db(client);
    const cursor = await db
      .selectFrom("connectors")
      .select("claimed_through")
      .where("connector", "=", options.connector)
      .executeTakeFirst();
    const from = cursor?.claimed_through ?? "0";
    // Before reading payloads: is a batch due at all (its first delivery waited long enough, or
    // the run is full)? While deliveries trickle in, most polls end here.
    const probe = await sql<RunProbe>`${runProbe(this.items, options, from)}`.execute(db);
    const ready = probe.rows[0];
    if (!ready) return null;
    if (!ready.waited && ready.n < options.maxRecords) return null;
    // Only what differs between members is read per row: a run's first attempt is its batch's
    // creation, and only its first member's wait matters (read below, when the run is short).
    const candidates = await sql<ItemRow>`
      select id, token, correlation_id, ordering_key, payload, commit_time, mapping, target_index,
             max_attempts, app_correlation_id, trace_id
        from ${this.items}
       where connector = ${options.connector} and not own_state and id > ${from}
       order by id limit ${options.maxRecords}`.execute(db);
    const members: ItemRow[] = [];
    const heldBack: string[] = [];
    let through = from;
    for (const row of candidates.rows) {
      const first = members[0];
      if (first && (row.mapping !== first.mapping || row.target_index !== first.target_index)) break;
      through = row.id;
      if (
        options.ordering === "key" &&
        (holders.inFlight.has(row.ordering_key) || holders.waiting.has(row.ordering_key))
      ) {
        heldBack.push(row.id);
        continue;
      }
      members.push(row);
    }
    const first = members[0];
    const last = members.at(-1);
    if (first && members.length < options.maxRecords && !(await this.hasWaited(client, first.id, options.maxWaitMs))) {
      // Cut short by a change of mapping target: the run waits for its maxWait like any other.
      return null;
    }
    if (heldBack.length > 0) {
      await sql`
        update ${this.items} set own_state = true, state = 'pending', updated_at = now()
         where id = any(${heldBack}::bigint[])`.execute(db);
    }
    if (!first || !last) {
      await db
        .updateTable("connectors")
        .set({ claimed_through: through })
        .where("connector", "=", options.connector)
        .execute();
      return null;
    }
    const sequence = await this.nextSequence(client, options.connector, through);
    const row = await this.insertBatch(client, options, sequence, {
      first: first.id,
      last: last.id,
      count: members.length,
    });
    // A new batch's attempt (1) is each member's.
    const batch = toBatch(options.connector, row, members, false);
    await this.auditAttempt(client, batch);
    return batch;
  }

  /** Whether a delivery has waited its maxWait for a batch (see ClaimOptions.maxWaitMs). */
  private async hasWaited(client: pg.ClientBase, id: string, maxWaitMs: number): Promise<boolean> {
    const r = await sql<{ waiting_since: Date }>`
      select least(commit_time, created_at) as waiting_since from ${this.items} where id = ${id}`.execute(
      this.db(client),
    );
    const since = r.rows[0]?.waiting_since;
    return since !== undefined && Date.now() - since.getTime() >= maxWaitMs;
  }

  /** The connector's next batch number; moves its claim cursor too when a run is taken. */
  private async nextSequence(client: pg.ClientBase, connector: string, claimedThrough: string | null): Promise<number> {
    const seq = await sql<{ sequence: string }>`
      insert into ${this.connectors} (connector, next_sequence, claimed_through)
      values (${connector}, 2, coalesce(${claimedThrough}::bigint, 0))
      on conflict (connector) do update set next_sequence = ${this.connectors}.next_sequence + 1,
             claimed_through = coalesce(${claimedThrough}::bigint, ${this.connectors}.claimed_through)
      returning next_sequence - 1 as sequence`.execute(this.db(client));
    return Number(seq.rows[0]?.sequence);
  }

  private async insertBatch(
    client: pg.ClientBase,
    options: ClaimOptions,
    sequence: number,
    run: { first: string; last: string; count: number } | null,
  ): Promise<BatchRow> {
    const createdAt = new Date();
    const name = options.nameFor?.({ connector: options.connector, sequence, createdAt }) ?? null;
    return await this.db(client)
      .insertInto("batches")
      .values({
        connector: options.connector,
        sequence,
        name,
        state: "sending",
        attempts: 1,
        lease_until: sql<Date>`now() + ${options.leaseMs} * interval '1 millisecond'`,
        owner: options.owner,
        created_at: createdAt,
        first_id: run?.first ?? null,
        last_id: run?.last ?? null,
        item_count: run?.count ?? null,
      })
      .returning(["id", "sequence", "name", "created_at", "attempts", "adapter_state", "first_id", "last_id"])
      .executeTakeFirstOrThrow();
  }

  /** One audit row for a run's attempt; one per member for a batch of deliveries with their own state. */
  private async auditAttempt(client: pg.ClientBase, batch: ClaimedBatch): Promise<void> {
    if (batch.run) {
      await appendAudit(client, this.schema, [
        {
          event: "attempted",
          connector: batch.connector,
          attempt: batch.attempt,
          detail: { batch: batch.id, firstId: batch.run.firstId, lastId: batch.run.lastId, count: batch.items.length },
        },
      ]);
      return;
    }
    await appendAudit(
      client,
      this.schema,
      batch.items.map((i) => ({
        event: "attempted" as const,
        deliveryId: i.id,
        token: i.token,
        connector: batch.connector,
        attempt: i.attempt,
        detail: {
          batch: batch.id,
          ...(i.traceId ? { traceId: i.traceId } : {}),
          ...(i.appCorrelationId ? { correlationId: i.appCorrelationId } : {}),
        },
      })),
    );
  }
}

interface Holders {
  /** Keys with a delivery on its way or waiting for a retry that is not due: they hold later ones. */
  readonly inFlight: ReadonlyMap<string, bigint>;
  /** Keys with a delivery of its own state that is due but not yet claimed: new ones wait behind it. */
  readonly waiting: ReadonlyMap<string, bigint>;
  readonly anyInFlight: boolean;
}

interface BatchRow {
  id: string;
  sequence: string;
  name: string | null;
  created_at: Date;
  attempts: number;
  adapter_state: Record<string, unknown> | null;
  first_id: string | null;
  last_id: string | null;
}

interface ItemRow {
  id: string;
  /** The attempt now being made. */
  attempts?: number;
  token: string;
  /** Null: the token's short form (see token-lookup.ts). */
  correlation_id: string | null;
  ordering_key: string;
  payload: Buffer | null;
  commit_time: Date;
  mapping: string;
  target_index: number;
  /** Absent for a run's members: their first attempt is this one, made by their batch. */
  first_attempt_at?: Date;
  max_attempts?: number | null;
  app_correlation_id?: string | null;
  trace_id?: string | null;
}

interface OwnRow extends ItemRow {
  /** Since when the delivery waits for its batch (see ClaimOptions.maxWaitMs). */
  waiting_since: Date;
  attempts: number;
  first_attempt_at: Date;
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
    run: row.first_id !== null && row.last_id !== null ? { firstId: row.first_id, lastId: row.last_id } : null,
    items: items.map((i) => ({
      id: i.id,
      attempt: i.attempts ?? row.attempts,
      token: i.token,
      correlationId: i.correlation_id ?? correlationIdOf(i.token),
      orderingKey: i.ordering_key,
      payload: i.payload ?? Buffer.alloc(0),
      commitTime: i.commit_time,
      firstAttemptAt: i.first_attempt_at ?? row.created_at,
      maxAttempts: i.max_attempts ?? null,
      appCorrelationId: i.app_correlation_id ?? null,
      traceId: i.trace_id ?? null,
    })),
  };
}

/** The head of a connector's unclaimed run: whether it waited its maxWait, and else how long the run is. */
export interface RunProbe {
  readonly oldest: Date;
  readonly waited: boolean;
  /** The run's length up to maxRecords; counted only when its head has not waited long enough. */
  readonly n: number;
}

/**
 * One row when the connector has unclaimed deliveries after `from`. The count reads up to
 * maxRecords rows from the heap, so it is made only when the head's wait does not decide alone:
 * in a backlog every head has waited, and each probe reads one row instead of a batch's worth.
 * The wait is measured on this process's clock, as the claim measures it.
 */
export function runProbe(
  items: RawBuilder<unknown>,
  options: { readonly connector: string; readonly maxRecords: number; readonly maxWaitMs: number },
  from: RawBuilder<unknown> | string,
): RawBuilder<RunProbe> {
  const cutoff = new Date(Date.now() - options.maxWaitMs);
  return sql<RunProbe>`
    select head.oldest, head.oldest <= ${cutoff} as waited,
           case when head.oldest <= ${cutoff} then 0 else
             (select count(*)::int from (select 1 from ${items}
                 where connector = ${options.connector} and not own_state and id > ${from}
                 order by id limit ${options.maxRecords}) run) end as n
      from (select least(commit_time, created_at) as oldest from ${items}
             where connector = ${options.connector} and not own_state and id > ${from}
             order by id limit 1) head`;
}
