// Waits until capture has made durable every change committed before a WAL position, as the
// replication slot's confirmed position shows (capture confirms only what the ledger holds).
import { setTimeout as sleep } from "node:timers/promises";
import type pg from "pg";
import type { Lsn } from "../change/change.js";
import { formatLsn, parseLsn } from "../change/lsn.js";
import { CaptureBehindError } from "./backfill-errors.js";
import { HEARTBEAT_MESSAGE_PREFIX } from "./feed-rows.js";

export interface CatchUpOptions {
  readonly timeoutMs: number;
  readonly pollMs?: number;
  readonly signal?: AbortSignal;
  /** Told once when a wait begins (the slot is behind), e.g. to tell the operator. */
  readonly onWaiting?: (slot: { confirmed: string | null; active: boolean }) => void;
}

interface SlotRow {
  confirmed: string | null;
  active: boolean;
}

export async function waitForCapture(
  source: pg.ClientBase,
  slot: string,
  position: Lsn,
  options: CatchUpOptions,
): Promise<void> {
  const started = Date.now();
  let told = false;
  let last: SlotRow | undefined;
  for (;;) {
    const result = await source.query<SlotRow>(
      `select confirmed_flush_lsn::text as confirmed, active from pg_replication_slots
        where slot_name = $1 and database = current_database()`,
      [slot],
    );
    last = result.rows[0] ?? { confirmed: null, active: false };
    if (last.confirmed !== null && parseLsn(last.confirmed) >= position) return;
    const waited = Date.now() - started;
    if (waited >= options.timeoutMs) {
      throw new CaptureBehindError({
        slot,
        snapshotLsn: formatLsn(position),
        confirmedLsn: last.confirmed,
        slotActive: last.active,
        waitedMs: waited,
      });
    }
    if (!told) {
      told = true;
      options.onWaiting?.(last);
    }
    // An idle source writes no WAL, so nothing would move the slot past the position: a
    // heartbeat message (which capture ignores) gives the stream something to confirm.
    await source.query("select pg_logical_emit_message(false, $1, '')", [HEARTBEAT_MESSAGE_PREFIX]);
    await sleep(Math.min(options.pollMs ?? 200, Math.max(1, options.timeoutMs - waited)), undefined, {
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }
}
