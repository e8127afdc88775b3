// Waits until the ledger holds the demo's transactions and every delivery they produced has reached its partner.
import type pg from "pg";
import { quoteIdentifier } from "../sql/sql-identifier.js";
import { throwIfInterrupted } from "./demo-errors.js";

export interface OpenDelivery {
  readonly id: string;
  readonly connector: string;
  readonly key: string;
  readonly state: string;
  readonly attempts: number;
  readonly lastError: string | null;
}

/** Deliveries were still open (or transactions not captured) when the time was up. */
export class DeliveryTimeoutError extends Error {
  override readonly name = "DeliveryTimeoutError";
  constructor(
    readonly waitedMs: number,
    readonly uncaptured: number,
    readonly open: readonly OpenDelivery[],
  ) {
    const listed = open.map(
      (d) => `${d.connector} ${d.key}: ${d.state}, ${d.attempts} attempts${d.lastError ? `, ${d.lastError}` : ""}`,
    );
    super(
      `not everything was delivered within ${Math.round(waitedMs / 1000)} s` +
        (uncaptured > 0 ? `; ${uncaptured} transactions not yet captured` : "") +
        (listed.length > 0 ? `; open deliveries: ${listed.join("; ")}` : ""),
    );
  }
}

/** A delivery reached the dead letters: the demo's partners should have accepted everything. */
export class DeadLetterError extends Error {
  override readonly name = "DeadLetterError";
  constructor(readonly dead: readonly OpenDelivery[]) {
    super(
      `dead letters: ${dead.map((d) => `${d.connector} ${d.key}: ${d.lastError ?? "no reason recorded"}`).join("; ")}`,
    );
  }
}

const POLL_MS = 100;

/** Resolves with the time waited once every transaction in `xids` is in the feed and nothing is left to send. */
export async function waitForDeliveries(
  ledger: pg.ClientBase,
  schema: string,
  xids: readonly string[],
  options: { readonly timeoutMs: number; readonly signal: AbortSignal },
): Promise<number> {
  const s = quoteIdentifier(schema);
  const started = Date.now();
  for (;;) {
    throwIfInterrupted(options.signal);
    const captured = await ledger.query<{ n: string }>(
      `select count(distinct xid) as n from ${s}.feed where xid = any($1::bigint[])`,
      [xids],
    );
    const uncaptured = xids.length - Number(captured.rows[0]?.n ?? 0);
    const open = await openDeliveries(ledger, s);
    const dead = open.filter((d) => d.state === "dead");
    if (dead.length > 0) throw new DeadLetterError(dead);
    if (uncaptured === 0 && open.length === 0) return Date.now() - started;
    if (Date.now() - started > options.timeoutMs)
      throw new DeliveryTimeoutError(Date.now() - started, uncaptured, open);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

async function openDeliveries(ledger: pg.ClientBase, s: string): Promise<OpenDelivery[]> {
  const result = await ledger.query<{
    id: string;
    connector: string;
    ordering_key: string;
    state: string;
    attempts: number;
    last_error: string | null;
  }>(
    `select id, connector, ordering_key, state, attempts, last_error from ${s}.deliveries
      where state not in ('sent', 'confirmed') order by id`,
  );
  return result.rows.map((r) => ({
    id: r.id,
    connector: r.connector,
    key: r.ordering_key,
    state: r.state,
    attempts: r.attempts,
    lastError: r.last_error,
  }));
}
