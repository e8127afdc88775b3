// Follows one receipt: LISTEN ess_receipts wakes the reader at once, and a fallback poll makes a
// missed notification (a dropped connection, a restart) a late outcome, never a lost one.
import pg from "pg";
import type { Logger } from "../ops/logger.js";
import type { ReceiptState } from "./receipt-state.js";

/** The channel the ledger's trigger notifies on every state change of an event's delivery. */
export const RECEIPTS_CHANNEL = "ess_receipts";

export interface WatchOptions {
  /** Stops the watch (the iterator then ends). */
  readonly signal?: AbortSignal;
  /** How often the receipt is read without a notification; default 5 s. */
  readonly pollMs?: number;
}

export interface ReceiptUpdate {
  readonly id: string;
  readonly state: ReceiptState;
}

const DEFAULT_POLL_MS = 5_000;

/**
 * Yields the receipt's state each time it changes (the first reading included) and ends once it
 * is confirmed, or when the signal aborts. A dead receipt may still be replayed, so the watch goes on.
 */
export async function* watchReceipt(
  ledgerUrl: string,
  id: string,
  read: () => Promise<ReceiptState>,
  logger: Logger,
  options: WatchOptions = {},
): AsyncGenerator<ReceiptUpdate, void, undefined> {
  const pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  let wake: (() => void) | undefined;
  let pending = false;
  const poke = () => {
    pending = true;
    wake?.();
  };
  const listener = await listen(ledgerUrl, id, poke, logger);
  const onAbort = () => poke();
  options.signal?.addEventListener("abort", onAbort);
  try {
    let last: ReceiptState | undefined;
    while (!options.signal?.aborted) {
      pending = false;
      const state = await read();
      if (state !== last) {
        last = state;
        yield { id, state };
        if (state === "confirmed") return;
      }
      if (!pending) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, pollMs);
          function done(): void {
            clearTimeout(timer);
            wake = undefined;
            resolve();
          }
          wake = done;
        });
      }
    }
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    await listener?.end().catch(() => undefined);
  }
}

/** A LISTEN connection; when it cannot be had, the watch still works on the poll alone. */
async function listen(url: string, id: string, poke: () => void, logger: Logger): Promise<pg.Client | undefined> {
  const client = new pg.Client({ connectionString: url, application_name: "ess-receipt-watch" });
  client.on("error", (error) =>
    logger.warn({ err: error, receiptId: id }, "receipt watch: notifications lost; polling"),
  );
  client.on("notification", (message) => {
    if (message.channel !== RECEIPTS_CHANNEL || !message.payload) return;
    try {
      const payload = JSON.parse(message.payload) as { receiptId?: unknown };
      if (payload.receiptId === id) poke();
    } catch {
      // Not a notification of ours: the poll covers whatever it was about.
    }
  });
  try {
    await client.connect();
    await client.query(`listen ${RECEIPTS_CHANNEL}`);
    return client;
  } catch (error) {
    logger.warn({ err: error, receiptId: id }, "receipt watch: cannot LISTEN; polling");
    await client.end().catch(() => undefined);
    return undefined;
  }
}
