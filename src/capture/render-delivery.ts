// Renders one change through one mapping target into a planned delivery: a pending one with its
// bytes and deterministic token, or a dead letter carrying the reason it could not be rendered.

import type { Lsn, Op } from "../change/change.js";
import type { Row } from "../change/value.js";
import { correlationIdFor, deliveryToken } from "../delivery/token.js";
import type { PlannedDelivery } from "../ledger/delivery-writer.js";
import { holdsUnstorableText, storableText } from "../ledger/storable-text.js";
import { type CompiledMapping, MappingError } from "../mapping/index.js";
import type { EventFacts } from "./feed-rows.js";

export interface DeliverySource {
  /** The change's identity inside the token ("commitLsn/ordinal", or a backfill identity). */
  readonly identity: string;
  readonly row: Row;
  readonly op: Op;
  readonly orderingKey: string;
  /** Where the change sits in the feed; null for rows that never went through it (backfill). */
  readonly commitLsn: Lsn | null;
  readonly ordinal: number | null;
  readonly commitTime: Date;
  /** For application events: receipt id and per-event options. */
  readonly event?: EventFacts;
  /** Why the ledger refused the change: its deliveries are dead letters, never rendered. */
  readonly refused?: string;
}

export function renderDelivery(
  mapping: CompiledMapping,
  target: CompiledMapping["targets"][number],
  source: DeliverySource,
): PlannedDelivery {
  const token = deliveryToken({
    connector: target.connector,
    mapping: mapping.config.name,
    targetIndex: target.index,
    change: source.identity,
  });
  const correlationId = correlationIdFor(token);
  // One object per delivery, built whole: capture renders one for every change and target.
  const planned = (state: "pending" | "dead", payload: Buffer | null, error: string | null): PlannedDelivery => ({
    token,
    correlationId,
    connector: target.connector,
    mapping: mapping.config.name,
    targetIndex: target.index,
    orderingKey: source.orderingKey,
    commitLsn: source.commitLsn,
    ordinal: source.ordinal,
    commitTime: source.commitTime,
    state,
    payload,
    error,
    ...(source.event ? { event: source.event } : {}),
  });
  if (source.refused !== undefined) {
    const reason = `mapping ${mapping.config.name} target ${target.index} (${target.connector}): ${source.refused}`;
    return planned("dead", null, storableText(reason));
  }
  const unstorable = target.columns.find((column) => holdsUnstorableText(source.row[column]));
  if (unstorable !== undefined) {
    // No partner format carries these faithfully and the ledger cannot keep them as text: the
    // change goes to the dead letters with its reason (the value itself is not repeated).
    const reason = `mapping ${mapping.config.name} target ${target.index} (${target.connector}): field source ${unstorable} holds a NUL character or a lone UTF-16 surrogate, which cannot be delivered`;
    return planned("dead", null, reason);
  }
  try {
    const payload = target.render(source.row, { op: source.op, token, correlationId, commitTime: source.commitTime });
    return planned("pending", payload, null);
  } catch (error) {
    const what = `mapping ${mapping.config.name} target ${target.index} (${target.connector})`;
    const reason =
      error instanceof MappingError
        ? `${what}: ${error.message}`
        : `${what}: unexpected error: ${(error as Error)?.message}`;
    return planned("dead", null, storableText(reason));
  }
}
