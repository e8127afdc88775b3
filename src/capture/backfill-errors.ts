// The named failures of a backfill: a mapping it cannot take, capture not caught up, an interruption.

export class BackfillError extends Error {
  override readonly name: string = "BackfillError";
}

/** The mapping does not exist or has no table to read (an operator's usage error). */
export class BackfillMappingError extends BackfillError {
  override readonly name = "BackfillMappingError";
  constructor(
    readonly mapping: string,
    readonly reason: string,
  ) {
    super(`cannot backfill mapping ${mapping}: ${reason}`);
  }
}

/**
 * Capture has not stored every change committed before the snapshot: deciding which rows the
 * stream already delivered would be guesswork, so nothing was queued.
 */
export class CaptureBehindError extends BackfillError {
  override readonly name = "CaptureBehindError";
  readonly slot: string;
  readonly snapshotLsn: string;
  readonly confirmedLsn: string | null;
  readonly slotActive: boolean;
  readonly waitedMs: number;
  constructor({
    slot,
    snapshotLsn,
    confirmedLsn,
    slotActive,
    waitedMs,
  }: {
    readonly slot: string;
    /** The snapshot's WAL position, 'X/Y'. */
    readonly snapshotLsn: string;
    /** The slot's confirmed position when the wait ended, 'X/Y', or null. */
    readonly confirmedLsn: string | null;
    readonly slotActive: boolean;
    readonly waitedMs: number;
  }) {
    super(
      `capture did not reach the backfill snapshot within ${Math.round(waitedMs / 1000)}s ` +
        `(slot ${slot} confirmed ${confirmedLsn ?? "nothing"}, snapshot at ${snapshotLsn})` +
        (slotActive ? "" : ": nothing is reading the slot; is essctl start running?") +
        " Nothing was queued; run the backfill again once capture runs.",
    );
    this.slot = slot;
    this.snapshotLsn = snapshotLsn;
    this.confirmedLsn = confirmedLsn;
    this.slotActive = slotActive;
    this.waitedMs = waitedMs;
  }
}

/** A column value of the snapshot could not be read as capture would read it. */
export class BackfillReadError extends BackfillError {
  override readonly name = "BackfillReadError";
  readonly table: string;
  readonly column: string;
  constructor({ table, column, cause }: { readonly table: string; readonly column: string; readonly cause: unknown }) {
    super(`backfill of ${table}: column ${column}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.table = table;
    this.column = column;
  }
}

/** Stopped by a signal between batches: what was queued stays queued, and a new run skips it. */
export class BackfillInterruptedError extends BackfillError {
  override readonly name = "BackfillInterruptedError";
  readonly mapping: string;
  /** Rows read before the interruption. */
  readonly rows: number;
  /** Deliveries queued from them. */
  readonly queued: number;
  constructor({ mapping, rows, queued }: { readonly mapping: string; readonly rows: number; readonly queued: number }) {
    super(
      `backfill of ${mapping} interrupted after ${rows} rows (${queued} deliveries queued); ` +
        "run it again: rows already queued are skipped",
    );
    this.mapping = mapping;
    this.rows = rows;
    this.queued = queued;
  }
}
