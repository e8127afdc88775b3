// Samples the delivery promise's invariants every ~50 ms while a fault test writes and kills:
//   - the slot's confirmed position never passes a committed change the ledger has not stored
//     (the slot is read first, then the ledger: a correct ESS stores before it confirms);
//   - a drop file, once written under a batch name, is only ever rewritten with the same bytes
//     (a resent batch keeps its name and its members; a delivery is never in two batches);
//   - no record is in two batch files, and each key's changes reach each partner in commit order.
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import pg from "pg";
import { parseLsn } from "../../src/change/lsn.js";
import { appendReceptions, dropReceptions, judge, type Reception } from "./partner-view.js";
import type { Workload } from "./workload.js";

export interface SamplerTargets {
  readonly sourceUrl: string;
  readonly ledgerUrl: string;
  readonly slot: string;
  readonly dropDir: string;
  readonly appendDir: string;
  readonly workload: Workload;
  /** REST receptions so far, in arrival order (when the site has a REST partner). */
  readonly rest?: () => readonly Reception[];
  readonly intervalMs?: number;
}

export interface SamplerReport {
  readonly samples: number;
  /** Samples that could not read the source or ledger (a server restarting). */
  readonly unavailable: number;
  /** Committed transactions checked against the slot's position. */
  readonly transactionsChecked: number;
  /** Drop files rewritten in place with identical bytes: resent batches that kept their names. */
  readonly resentUnderSameName: number;
  readonly violations: readonly string[];
}

export class InvariantSampler {
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private samples = 0;
  private unavailable = 0;
  private verified = 0;
  private resent = 0;
  private readonly violations: string[] = [];
  private readonly files = new Map<string, { ino: number; mtimeMs: number; body: string }>();
  private source: pg.Client | undefined;
  private ledger: pg.Client | undefined;

  constructor(private readonly targets: SamplerTargets) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.targets.intervalMs ?? 50);
  }

  /** Stops sampling, takes one last sample and reports. */
  async stop(): Promise<SamplerReport> {
    clearInterval(this.timer);
    while (this.busy) await new Promise((r) => setTimeout(r, 10));
    await this.sample(true);
    await this.source?.end().catch(() => undefined);
    await this.ledger?.end().catch(() => undefined);
    return {
      samples: this.samples,
      unavailable: this.unavailable,
      transactionsChecked: this.verified,
      resentUnderSameName: this.resent,
      violations: [...new Set(this.violations)],
    };
  }

  private async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      await this.sample(this.samples % 10 === 0);
    } finally {
      this.busy = false;
    }
  }

  private async sample(withPartners: boolean): Promise<void> {
    this.samples++;
    try {
      await this.checkSlot();
    } catch {
      this.unavailable++;
      await this.source?.end().catch(() => undefined);
      await this.ledger?.end().catch(() => undefined);
      this.source = undefined;
      this.ledger = undefined;
    }
    if (withPartners) await this.checkPartners();
  }

  private async connect(url: string): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: url, application_name: "ess-invariant-sampler" });
    client.on("error", () => undefined);
    await client.connect();
    return client;
  }

  private async checkSlot(): Promise<void> {
    this.source ??= await this.connect(this.targets.sourceUrl);
    this.ledger ??= await this.connect(this.targets.ledgerUrl);
    const slot = await this.source.query<{ lsn: string | null }>(
      "select confirmed_flush_lsn::text as lsn from pg_replication_slots where slot_name = $1",
      [this.targets.slot],
    );
    const confirmedText = slot.rows[0]?.lsn;
    if (!confirmedText) return;
    const confirmed = parseLsn(confirmedText);
    const committed = this.targets.workload.committed;
    let end = this.verified;
    while (end < committed.length && parseLsn(committed[end]?.lsnAfter ?? "0/0") <= confirmed) end++;
    if (end === this.verified) return;
    const first = committed[this.verified];
    if (!first) return;
    const stored = await this.ledger.query<{ seq: string; n: number }>(
      `select (after->>'seq')::bigint as seq, count(*)::int as n from ess.feed
        where commit_lsn > $1::pg_lsn and table_name = 'permits' group by 1`,
      [first.lsnBefore],
    );
    const counts = new Map(stored.rows.map((r) => [Number(r.seq), r.n]));
    for (let i = this.verified; i < end; i++) {
      const txn = committed[i];
      if (!txn) continue;
      const found = counts.get(txn.seq) ?? 0;
      if (found < txn.keys.length) {
        this.violations.push(
          `the slot confirmed ${confirmedText}, past transaction ${txn.seq} (ended by ${txn.lsnAfter}), ` +
            `but the ledger holds ${found} of its ${txn.keys.length} changes`,
        );
      }
    }
    this.verified = end;
  }

  private async checkPartners(): Promise<void> {
    const { dropDir } = this.targets;
    for (const name of await readdir(dropDir)) {
      if (!name.endsWith(".txt")) continue;
      const path = join(dropDir, name);
      const info = await stat(path).catch(() => undefined);
      if (!info) continue;
      const known = this.files.get(name);
      if (known && known.ino === info.ino && known.mtimeMs === info.mtimeMs) continue;
      const body = await readFile(path, "utf8");
      if (known && known.body !== body) {
        this.violations.push(`batch file ${name} was rewritten with different records`);
      } else if (known) {
        this.resent++;
      }
      this.files.set(name, { ino: info.ino, mtimeMs: info.mtimeMs, body });
    }
    const receptions = new Map<string, readonly Reception[]>([
      ["drop_batches", await dropReceptions(dropDir)],
      ["drop_append", await appendReceptions(this.targets.appendDir)],
      ...(this.targets.rest ? [["rest_partner", this.targets.rest()] as const] : []),
    ]);
    // Only the rules that hold at every instant: order, one batch per record, nothing uncommitted.
    const committed = new Map(this.targets.workload.committed.map((t) => [t.seq, t.keys]));
    const verdict = judge(committed, receptions, new Set(["drop_append"]), { partial: true });
    // A commit whose answer a restart cut off is in no one's list yet, so what the partner got of it
    // looks uncommitted here (the count line included); the final verdict reads the source instead.
    this.violations.push(...verdict.problems.filter((p) => !/never committed|more phantom findings/.test(p)));
  }
}
