// Turns captured changes into deliveries: every matching mapping target renders its record now,
// so the bytes are fixed in the ledger before any attempt; a record that cannot be rendered
// becomes a dead letter with its reason instead of stopping the stream.

import type { TableRef } from "../change/change.js";
import { formatLsn } from "../change/lsn.js";
import type { PlannedDelivery } from "../ledger/delivery-writer.js";
import type { CompiledMapping } from "../mapping/index.js";
import type { CapturedChange } from "./feed-rows.js";
import { renderDelivery } from "./render-delivery.js";

export class DeliveryPlanner {
  /** Per table (the decoder's one TableRef per relation): whether some mapping reads its rows. */
  private readonly tablesRead = new WeakMap<TableRef, boolean>();

  constructor(private readonly mappings: readonly CompiledMapping[]) {}

  get isEmpty(): boolean {
    return this.mappings.length === 0;
  }

  /** Whether a change of this table may become deliveries: only then does capture keep its row. */
  readsRowsOf(table: TableRef): boolean {
    let reads = this.tablesRead.get(table);
    if (reads === undefined) {
      reads = this.mappings.some((mapping) => mapping.readsTable(table));
      this.tablesRead.set(table, reads);
    }
    return reads;
  }

  plan(changes: readonly CapturedChange[]): PlannedDelivery[] {
    const planned: PlannedDelivery[] = [];
    for (const change of changes) {
      if (change.row === null) continue;
      const probe = {
        op: change.op,
        row: change.row,
        ...(change.table ? { table: change.table } : {}),
        ...(change.topic !== null ? { topic: change.topic } : {}),
      };
      for (const mapping of this.mappings) {
        if (!mapping.matches(probe)) continue;
        let orderingKey: string;
        try {
          orderingKey = mapping.orderingKey(change.row);
        } catch {
          orderingKey = `${change.feed.tableName ?? change.topic ?? "event"}:${formatLsn(change.feed.commitLsn)}`;
        }
        for (const target of mapping.targets) {
          planned.push(this.render(change, mapping, target, orderingKey));
        }
      }
    }
    return planned;
  }

  private render(
    change: CapturedChange,
    mapping: CompiledMapping,
    target: CompiledMapping["targets"][number],
    orderingKey: string,
  ): PlannedDelivery {
    const { feed } = change;
    return renderDelivery(mapping, target, {
      identity: `${formatLsn(feed.commitLsn)}/${feed.ordinal}`,
      row: change.row ?? {},
      op: change.op,
      orderingKey,
      commitLsn: feed.commitLsn,
      ordinal: feed.ordinal,
      commitTime: feed.commitTime,
      ...(change.event ? { event: change.event } : {}),
      ...(change.refused !== undefined ? { refused: change.refused } : {}),
    });
  }
}
