// The write load of the fault tests: one writer committing numbered transactions to the permits
// table, remembering which commits succeeded and where in the WAL each one ended.
import pg from "pg";

/** Source tables of a fault site; `committed` (not published) records each writer transaction. */
export const FAULT_SOURCE_DDL = `
  create table public.permits (id text primary key, status text not null, seq bigint not null);
  create table public.committed (seq bigint primary key, keys text[] not null);
  create publication ess_pub for table public.permits;
`;

export interface CommittedTransaction {
  readonly seq: number;
  readonly keys: readonly string[];
  /** The WAL insert position before the transaction began: its changes lie after it. */
  readonly lsnBefore: string;
  /** The WAL insert position once the commit returned: the commit record ends at or before it. */
  readonly lsnAfter: string;
}

export interface WorkloadOptions {
  readonly url: string;
  /** Keys the writer cycles through (P0 … P<n-1>). */
  readonly keys: number;
  /** Rows per transaction: 1 to this many (distinct keys). */
  readonly maxRows: number;
  /** Pause between transactions. */
  readonly pauseMs: number;
  /** Every this many transactions, one that touches `largeRows` keys (0: never). */
  readonly largeEvery?: number;
  readonly largeRows?: number;
}

/**
 * Each transaction upserts distinct keys with status `v<seq>` and inserts its seq into
 * `committed` in the same transaction, so after a lost connection the source itself says whether
 * a commit happened. Errors (a restarting server) are survived: the writer reconnects.
 */
export class Workload {
  readonly committed: CommittedTransaction[] = [];
  private stopping = false;
  private running: Promise<void> | undefined;
  private nextKey = 0;
  private seq = 0;
  errors = 0;

  constructor(private readonly options: WorkloadOptions) {}

  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
  }

  /** Keys written by each committed transaction, read from the source (includes commits whose answer was lost). */
  async committedInSource(): Promise<Map<number, readonly string[]>> {
    const client = new pg.Client({ connectionString: this.options.url });
    await client.connect();
    try {
      const r = await client.query<{ seq: string; keys: string[] }>("select seq, keys from public.committed");
      return new Map(r.rows.map((row) => [Number(row.seq), row.keys]));
    } finally {
      await client.end();
    }
  }

  private async loop(): Promise<void> {
    const { options } = this;
    while (!this.stopping) {
      const client = new pg.Client({ connectionString: options.url });
      client.on("error", () => undefined);
      try {
        await client.connect();
        while (!this.stopping) {
          await this.transaction(client);
          if (options.pauseMs > 0) await new Promise((r) => setTimeout(r, options.pauseMs));
        }
      } catch {
        this.errors++;
        await new Promise((r) => setTimeout(r, 200));
      } finally {
        await client.end().catch(() => undefined);
      }
    }
  }

  private async transaction(client: pg.Client): Promise<void> {
    const { options } = this;
    const seq = ++this.seq;
    const large = options.largeEvery && options.largeRows && seq % options.largeEvery === 0;
    const rows = large
      ? Math.min(options.largeRows ?? 1, options.keys)
      : 1 + Math.floor(Math.random() * options.maxRows);
    const keys: string[] = [];
    for (let i = 0; i < Math.min(rows, options.keys); i++) keys.push(`P${this.nextKey++ % options.keys}`);
    const before = await client.query<{ lsn: string }>("select pg_current_wal_insert_lsn()::text as lsn");
    await client.query("begin");
    await client.query(
      `insert into public.permits (id, status, seq) select k, $2, $1 from unnest($3::text[]) as k
         on conflict (id) do update set status = excluded.status, seq = excluded.seq`,
      [seq, `v${seq}`, keys],
    );
    await client.query("insert into public.committed (seq, keys) values ($1, $2)", [seq, keys]);
    await client.query("commit");
    // The insert position, not pg_current_wal_lsn() (the write position): with
    // synchronous_commit off the write position can still be short of the commit record.
    const after = await client.query<{ lsn: string }>("select pg_current_wal_insert_lsn()::text as lsn");
    this.committed.push({ seq, keys, lsnBefore: before.rows[0]?.lsn ?? "0/0", lsnAfter: after.rows[0]?.lsn ?? "0/0" });
  }
}
