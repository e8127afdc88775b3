// One capture leader per ledger and slot, any number of standbys: leadership is a session-level
// advisory lock on the ledger (its PostgreSQL is the arbiter), held by a connection that the
// server ends when the leader's process or machine goes away; a standby polls for the lock.
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import type { Logger } from "../ops/logger.js";

export type CaptureRole = "leader" | "standby";

export interface CaptureLeadershipOptions {
  readonly ledgerUrl: string;
  readonly schema: string;
  readonly slot: string;
  /** This process, as other processes and `essctl stats` see it (host:pid:…). */
  readonly owner: string;
  readonly logger: Logger;
  /** How often a standby asks for the lock and a leader proves its lock session alive (default 1 s). */
  readonly pollMs?: number;
  /**
   * The server ends a lock session silent for this long (idle_session_timeout, PostgreSQL 14+), so
   * the lock of a leader whose machine vanished without closing its socket is released (default 8 s).
   */
  readonly sessionTimeoutMs?: number;
  readonly onRole?: (role: CaptureRole) => void;
}

/** The leader of the moment, read from the ledger's lock table. */
export interface CaptureLeaderInfo {
  readonly owner: string;
  readonly pid: number;
  readonly since: Date | null;
}

/** First key of the advisory lock: "ESC", ESS capture (migrations use "ESS"). */
const LEADER_NAMESPACE = 0x455343;
const LOCK_APPLICATION = "ess-leader ";

/** Second key: a stable 32-bit hash of schema and slot, so two ledgers or slots never share a leader. */
export function leaderLockKey(schema: string, slot: string): number {
  // FNV-1a over UTF-8; the server shows the key as an oid (unsigned).
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(`${schema}.${slot}`, "utf8")) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash | 0;
}

/** The leader's lock session, found in pg_locks: what `essctl stats` and a standby's log name. */
export async function readCaptureLeader(
  ledger: pg.ClientBase | pg.Pool,
  schema: string,
  slot: string,
): Promise<CaptureLeaderInfo | null> {
  const result = await ledger.query<{ application_name: string; pid: number; backend_start: Date | null }>(
    `select a.application_name, a.pid, a.backend_start
       from pg_locks l join pg_stat_activity a on a.pid = l.pid
      where l.locktype = 'advisory' and l.granted and l.database = (select oid from pg_database where datname = current_database())
        and l.classid = $1::bigint::oid and l.objid = $2::bigint::oid and l.objsubid = 2`,
    [LEADER_NAMESPACE, leaderLockKey(schema, slot) >>> 0],
  );
  const row = result.rows[0];
  if (!row) return null;
  const owner = row.application_name.startsWith(LOCK_APPLICATION)
    ? row.application_name.slice(LOCK_APPLICATION.length)
    : row.application_name;
  return { owner, pid: row.pid, since: row.backend_start };
}

export class LeadershipLostError extends Error {
  override readonly name = "LeadershipLostError";
}

export class CaptureLeadership {
  private stopping = false;
  private readonly stopped = new AbortController();
  /** Undefined until the lock was asked for once: neither leading nor known to stand by. */
  private currentRole: CaptureRole | undefined;
  private reportedStandby = false;

  constructor(private readonly options: CaptureLeadershipOptions) {}

  get role(): CaptureRole | undefined {
    return this.currentRole;
  }

  /**
   * Waits for leadership, then runs `lead` with a signal that aborts when the lock session is lost
   * (or stop() is called); `lead` must then stop capturing and return. Back to standby after a
   * lost term; returns after stop(). An error thrown by `lead` ends the loop with that error.
   */
  async run(lead: (term: AbortSignal) => Promise<void>): Promise<void> {
    const pollMs = this.options.pollMs ?? 1_000;
    let failures = 0;
    while (!this.stopping) {
      const client = await this.connect().catch((error: unknown) => {
        if (failures++ === 0)
          this.options.logger.warn({ err: error }, "capture leadership: cannot reach the ledger; retrying");
        return undefined;
      });
      if (!client) {
        await sleep(pollMs, undefined, { signal: this.stopped.signal }).catch(() => undefined);
        continue;
      }
      failures = 0;
      try {
        const won = await this.acquire(client, pollMs);
        if (!won) continue;
        await this.leadTerm(client, pollMs, lead);
      } catch (error) {
        if (error instanceof LeadershipLostError || isConnectionLoss(error)) {
          if (this.currentRole === "leader") {
            this.options.logger.warn({ err: error }, "capture leadership lost: stopped capturing; standing by");
          } else {
            this.options.logger.debug({ err: error }, "the standby's lock session ended; reconnecting");
          }
          continue;
        }
        throw error;
      } finally {
        this.setRole("standby");
        await client.end().catch(() => undefined);
      }
    }
  }

  stop(): void {
    this.stopping = true;
    this.stopped.abort();
  }

  private async connect(): Promise<pg.Client> {
    const { options } = this;
    const client = new pg.Client({
      connectionString: options.ledgerUrl,
      application_name: `${LOCK_APPLICATION}${options.owner}`.slice(0, 63),
      connectionTimeoutMillis: 5_000,
      query_timeout: Math.max(2_000, Math.floor((options.sessionTimeoutMs ?? 8_000) / 2)),
    });
    client.on("error", (error) => options.logger.debug({ err: error }, "capture leadership session error"));
    await client.connect();
    try {
      await client.query(`set idle_session_timeout = ${Math.floor(options.sessionTimeoutMs ?? 8_000)}`);
    } catch (error) {
      // PostgreSQL 13 and older: a vanished leader's lock lasts until TCP keepalives end its session.
      options.logger.debug({ err: error }, "idle_session_timeout is not available on the ledger server");
    }
    return client;
  }

  /** Polls for the lock until it is ours (true) or stop() (false); logs the standby state once. */
  private async acquire(client: pg.Client, pollMs: number): Promise<boolean> {
    const { options } = this;
    const key = leaderLockKey(options.schema, options.slot);
    const waitingSince = Date.now();
    while (!this.stopping) {
      const result = await client.query<{ locked: boolean }>("select pg_try_advisory_lock($1, $2) as locked", [
        LEADER_NAMESPACE,
        key,
      ]);
      if (result.rows[0]?.locked) {
        this.setRole("leader");
        options.logger.info(
          { slot: options.slot, owner: options.owner, waitedMs: Date.now() - waitingSince },
          "capture leader: this process captures the slot",
        );
        this.reportedStandby = false;
        return true;
      }
      this.setRole("standby");
      if (!this.reportedStandby) {
        this.reportedStandby = true;
        const leader = await readCaptureLeader(client, options.schema, options.slot).catch(() => null);
        options.logger.info(
          { slot: options.slot, leader: leader?.owner ?? "unknown", leaderPid: leader?.pid ?? null },
          "capture standby: another process captures the slot; delivery and HTTP run here, capture takes over when the leader goes",
        );
      }
      await sleep(pollMs, undefined, { signal: this.stopped.signal }).catch(() => undefined);
    }
    return false;
  }

  private async leadTerm(client: pg.Client, pollMs: number, lead: (term: AbortSignal) => Promise<void>): Promise<void> {
    const term = new AbortController();
    const onStop = () => term.abort(new Error("stopping"));
    this.stopped.signal.addEventListener("abort", onStop, { once: true });
    let lost: Error | undefined;
    const loseWith = (error: Error) => {
      lost ??= error;
      term.abort(error);
    };
    client.on("error", loseWith);
    client.on("end", () => loseWith(new LeadershipLostError("the leadership lock session ended")));
    // Proves the session alive and keeps it from the idle timeout; a failed proof ends the term.
    const keepAlive = setInterval(() => {
      client.query("select 1").catch((error: unknown) => {
        loseWith(new LeadershipLostError(`the leadership lock session failed: ${(error as Error)?.message}`));
      });
    }, pollMs);
    try {
      await lead(term.signal);
    } finally {
      clearInterval(keepAlive);
      this.stopped.signal.removeEventListener("abort", onStop);
      client.off("error", loseWith);
    }
    if (lost) throw lost instanceof LeadershipLostError ? lost : new LeadershipLostError(lost.message, { cause: lost });
  }

  private setRole(role: CaptureRole): void {
    if (this.currentRole === role) return;
    this.currentRole = role;
    this.options.onRole?.(role);
  }
}

function isConnectionLoss(error: unknown): boolean {
  const code = (error as { code?: string })?.code ?? "";
  return (
    /^(08|57P0|57014)/.test(code) ||
    /^E[A-Z]+$/.test(code) ||
    /Connection terminated|terminating connection|Query read timeout|timeout/i.test(String((error as Error)?.message))
  );
}

/**
 * Fencing: a new leader ends the replication session a former leader may still hold (its
 * walsender outlives a vanished machine until wal_sender_timeout). Only ESS's own walsender is
 * ended; another program holding the slot is left alone and named.
 */
export async function fenceFormerLeader(source: pg.ClientBase, slot: string, logger: Logger): Promise<void> {
  const result = await source.query<{
    active_pid: number | null;
    application_name: string | null;
    ended: boolean | null;
  }>(
    `select s.active_pid, a.application_name,
            case when a.application_name = 'ess-replication' then pg_terminate_backend(s.active_pid) end as ended
       from pg_replication_slots s left join pg_stat_activity a on a.pid = s.active_pid
      where s.slot_name = $1 and s.active_pid is not null`,
    [slot],
  );
  const row = result.rows[0];
  if (!row?.active_pid) return;
  if (row.ended) {
    logger.info(
      { slot, walsenderPid: row.active_pid },
      "fenced the former capture leader: ended its replication session",
    );
  } else {
    logger.warn(
      { slot, activePid: row.active_pid, application: row.application_name },
      "the replication slot is held by another program; capture waits for it",
    );
  }
}
