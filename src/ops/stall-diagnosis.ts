// Names the likely causes of a replication stall from what the databases show at that moment.
import { redactSecrets } from "../config/secrets.js";
import { readConnectorStates } from "../ledger/connector-state.js";
import type { Queryable } from "../ledger/queryable.js";

export interface StallContext {
  readonly source: Queryable;
  readonly ledger: Queryable;
  readonly schema: string;
  readonly replicationConnected: boolean;
  readonly stallAfterMs: number;
}

interface Backend {
  readonly pid: number;
  readonly application_name: string | null;
  readonly usename: string | null;
  readonly xact_start: Date | null;
  readonly state: string | null;
}

/** The capture's ledger connection announces itself with this application_name. */
const CAPTURE_APPLICATION = "ess-capture";
/** ESS's own connections (capture, delivery, probes) wait because of a stall; they do not cause one. */
const OWN_APPLICATIONS = "ess-%";

/**
 * One sentence per cause found, most specific first; never the text of anyone's query, which
 * may hold PII or credentials. Lookups that fail become causes themselves.
 */
export async function diagnoseStall(context: StallContext): Promise<string[]> {
  const causes: string[] = [];
  const named = new Set<number>();
  if (!context.replicationConnected) {
    causes.push("the replication session is not connected (see the 'replication session ended' warnings)");
  }
  try {
    for (const b of await ledgerLockHolders(context.ledger)) {
      named.add(b.pid);
      causes.push(`the capture's ledger write waits for a lock held by ${describe(b)}`);
    }
    causes.push(...(await heldConnectors(context.ledger, context.schema)));
  } catch (error) {
    causes.push(`the ledger is unreachable or failing: ${message(error)}`);
  }
  try {
    for (const b of await longTransactions(context.source, context.stallAfterMs)) {
      if (named.has(b.pid)) continue;
      causes.push(
        `a long transaction on the source database, ${describe(b)}: the slot cannot release WAL older than it, and a large one takes long to decode`,
      );
    }
  } catch (error) {
    causes.push(`the source database is unreachable or failing: ${message(error)}`);
  }
  if (causes.length === 0) {
    causes.push(
      "no single cause found: look for a long transaction on the source, locks on or trouble reaching the ledger, and held connectors",
    );
  }
  return causes;
}

async function ledgerLockHolders(ledger: Queryable): Promise<Backend[]> {
  const result = await ledger.query<Backend>(
    `select distinct b.pid, b.application_name, b.usename, b.xact_start, b.state
       from pg_stat_activity w
       cross join lateral unnest(pg_blocking_pids(w.pid)) as blocker(pid)
       join pg_stat_activity b on b.pid = blocker.pid
      where w.datname = current_database() and w.application_name = $1 and w.wait_event_type = 'Lock'`,
    [CAPTURE_APPLICATION],
  );
  return result.rows;
}

async function longTransactions(source: Queryable, olderThanMs: number): Promise<Backend[]> {
  const result = await source.query<Backend>(
    `select pid, application_name, usename, xact_start, state
       from pg_stat_activity
      where datname = current_database() and backend_type = 'client backend' and pid <> pg_backend_pid()
        and xact_start < now() - $1 * interval '1 millisecond' and application_name not like $2
      order by xact_start
      limit 3`,
    [olderThanMs, OWN_APPLICATIONS],
  );
  return result.rows;
}

async function heldConnectors(ledger: Queryable, schema: string): Promise<string[]> {
  const held: string[] = [];
  for (const state of (await readConnectorStates(ledger, schema)).values()) {
    const why = state.attention
      ? "held for attention"
      : state.paused
        ? "paused"
        : !state.online
          ? "offline"
          : undefined;
    if (why) held.push(`connector ${state.connector} is ${why}: its deliveries wait in the ledger`);
  }
  return held;
}

function describe(b: Backend): string {
  const since = b.xact_start ? `, transaction open since ${b.xact_start.toISOString()}` : "";
  return `pid ${b.pid} (application ${JSON.stringify(b.application_name ?? "")}, user ${b.usename ?? "?"}, ${b.state ?? "state unknown"}${since})`;
}

function message(error: unknown): string {
  return redactSecrets(error instanceof Error ? error.message : String(error));
}
