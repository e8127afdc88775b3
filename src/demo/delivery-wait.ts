// Waits until the ledger holds the demo's transactions and every delivery they produced has reached its partner.
import type pg from "pg";
import { countCapturedTransactions, type OpenDelivery, openDeliveries } from "../ledger/delivery-progress.js";
import { throwIfInterrupted } from "./demo-errors.js";

/** Deliveries were still open (or transactions not captured) when the time was up. */
export class DeliveryTimeoutError extends Error {
  override readonly name = "DeliveryTimeoutError";
  readonly waitedMs: number;
  /** Transactions committed but not yet in the feed. */
  readonly uncaptured: number;
  readonly open: readonly OpenDelivery[];
  constructor({
    waitedMs,
    uncaptured,
    open,
  }: {
    readonly waitedMs: number;
    readonly uncaptured: number;
    readonly open: readonly OpenDelivery[];
  }) {
    const listed = open.map(
      (d) => `${d.connector} ${d.key}: ${d.state}, ${d.attempts} attempts${d.lastError ? `, ${d.lastError}` : ""}`,
    );
    super(
      `not everything was delivered within ${Math.round(waitedMs / 1000)} s` +
        (uncaptured > 0 ? `; ${uncaptured} transactions not yet captured` : "") +
        (listed.length > 0 ? `; open deliveries: ${listed.join("; ")}` : ""),
    );
    this.waitedMs = waitedMs;
    this.uncaptured = uncaptured;
    this.open = open;
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
  const started = Date.now();
  for (;;) {
    throwIfInterrupted(options.signal);
    const uncaptured = xids.length - (await countCapturedTransactions(ledger, schema, xids));
    const open = await openDeliveries(ledger, schema);
    const dead = open.filter((d) => d.state === "dead");
    if (dead.length > 0) throw new DeadLetterError(dead);
    if (uncaptured === 0 && open.length === 0) return Date.now() - started;
    if (Date.now() - started > options.timeoutMs)
      throw new DeliveryTimeoutError({ waitedMs: Date.now() - started, uncaptured, open });
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
