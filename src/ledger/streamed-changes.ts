// The waiting room of source transactions still in progress (`ess.streamed_changes`): their
// changes are appended segment by segment, read back in chunks at their commit, and deleted at
// their commit or abort.
import { pipeline } from "node:stream/promises";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { quoteIdentifier } from "../sql/sql-identifier.js";
import { copyField, copyLines } from "./copy-text.js";
import { type LedgerDb, ledgerDb } from "./ledger-db.js";

/** One change of an open transaction, in the lossless text form of change/message-codec.ts. */
export interface StreamedChange {
  readonly seq: number;
  /** The (sub)transaction that made it. */
  readonly changeXid: number;
  readonly text: string;
}

export class StreamedChanges {
  private readonly table: string;

  constructor(
    private readonly schema: string,
    private readonly slot: string,
  ) {
    this.table = `${quoteIdentifier(schema)}.streamed_changes`;
  }

  private db(client: pg.ClientBase): LedgerDb {
    return ledgerDb(client, this.schema);
  }

  /**
   * Forgets what an earlier session kept: the source sends every transaction that is not
   * confirmed again from the slot's restart point, from its first segment on.
   */
  async clear(client: pg.ClientBase): Promise<void> {
    await this.db(client).deleteFrom("streamed_changes").where("slot", "=", this.slot).execute();
  }

  async append(client: pg.ClientBase, xid: number, changes: readonly StreamedChange[]): Promise<void> {
    if (changes.length === 0) return;
    const slot = copyField(this.slot);
    await pipeline(
      copyLines(changes, (c) => `${slot}\t${xid}\t${c.seq}\t${c.changeXid}\t${copyField(c.text)}\n`),
      client.query(copyFrom(`copy ${this.table} (slot, xid, seq, change_xid, change) from stdin`)),
    );
  }

  /** Chunks of a transaction's changes in their order; each chunk is read when the last was used. */
  async *read(client: pg.ClientBase, xid: number, chunkRows: number): AsyncGenerator<string[]> {
    let after = -1;
    for (;;) {
      const rows = await this.db(client)
        .selectFrom("streamed_changes")
        .select(["seq", "change"])
        .where("slot", "=", this.slot)
        .where("xid", "=", String(xid))
        .where("seq", ">", after)
        .orderBy("seq")
        .limit(chunkRows)
        .execute();
      if (rows.length === 0) return;
      after = rows[rows.length - 1]?.seq ?? after;
      yield rows.map((r) => r.change);
      if (rows.length < chunkRows) return;
    }
  }

  /** The whole transaction: committed (now in the feed) or rolled back. */
  async discard(client: pg.ClientBase, xid: number): Promise<void> {
    await this.db(client)
      .deleteFrom("streamed_changes")
      .where("slot", "=", this.slot)
      .where("xid", "=", String(xid))
      .execute();
  }

  /**
   * A subtransaction rolled back: its changes and those of the subtransactions it began, which
   * are all the transaction's changes from the subtransaction's first on (they nest).
   */
  async discardSubtransaction(client: pg.ClientBase, xid: number, subXid: number): Promise<void> {
    const db = this.db(client);
    await db
      .deleteFrom("streamed_changes")
      .where("slot", "=", this.slot)
      .where("xid", "=", String(xid))
      .where("seq", ">=", (eb) =>
        eb
          .selectFrom("streamed_changes")
          .select((e) => e.fn.min("seq").as("first"))
          .where("slot", "=", this.slot)
          .where("xid", "=", String(xid))
          .where("change_xid", "=", String(subXid)),
      )
      .execute();
  }
}
