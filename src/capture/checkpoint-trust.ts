// Decides whether the ledger's checkpoint belongs to the slot and server capture is about to read:
// same server, a timeline that descends from the recorded one without passing the checkpoint, and
// not a slot created after the checkpoint was written. Pure: the caller reads and records.

import type { Lsn } from "../change/change.js";
import { formatLsn } from "../change/lsn.js";
import type { RecordedSourceIdentity } from "../ledger/source-identity.js";
import type { ServerHistory } from "../source/server-identity.js";

export interface SlotAtStart {
  /** This start created the slot. */
  readonly created: boolean;
  readonly confirmedFlushLsn: Lsn;
}

export interface CheckpointFacts {
  readonly slot: string;
  readonly server: ServerHistory;
  readonly recorded: RecordedSourceIdentity | null;
  readonly slotState: SlotAtStart;
  readonly checkpoint: Lsn | null;
  /** The operator accepted a changed source (`essctl start --accept-source-change`). */
  readonly acceptChange: boolean;
}

export type CheckpointVerdict =
  | {
      readonly trust: true;
      /** Where streaming starts: never before the slot's confirmed position. */
      readonly start: Lsn;
      /** What the ledger records now (undefined: unchanged). */
      readonly record?: RecordedSourceIdentity;
      /** The operator's acceptance replaced a mismatch: named for the log and audit trail. */
      readonly accepted?: readonly string[];
    }
  | { readonly trust: false; readonly mismatches: readonly string[] };

export function judgeCheckpoint(facts: CheckpointFacts): CheckpointVerdict {
  const { server, recorded, slotState, checkpoint } = facts;
  const current: RecordedSourceIdentity = {
    systemIdentifier: server.systemIdentifier,
    timeline: server.timeline,
    slotStartLsn: recorded && !slotState.created ? recorded.slotStartLsn : slotState.confirmedFlushLsn,
  };
  const mismatches = checkpoint === null ? [] : findMismatches(facts, checkpoint);
  if (mismatches.length > 0) {
    if (!facts.acceptChange) return { trust: false, mismatches };
    // Accepted: this server and slot from now on; the slot's own position, not the old checkpoint.
    return {
      trust: true,
      start: slotState.confirmedFlushLsn,
      record: { ...current, slotStartLsn: slotState.confirmedFlushLsn },
      accepted: mismatches,
    };
  }
  const start =
    checkpoint !== null && checkpoint > slotState.confirmedFlushLsn ? checkpoint : slotState.confirmedFlushLsn;
  const unchanged =
    recorded !== null &&
    recorded.systemIdentifier === current.systemIdentifier &&
    recorded.timeline === current.timeline &&
    recorded.slotStartLsn === current.slotStartLsn;
  return unchanged ? { trust: true, start } : { trust: true, start, record: current };
}

function findMismatches(facts: CheckpointFacts, checkpoint: Lsn): string[] {
  const { slot, server, recorded, slotState } = facts;
  const at = formatLsn(checkpoint);
  const found: string[] = [];
  if (recorded && recorded.systemIdentifier !== server.systemIdentifier) {
    found.push(
      `the source is another server: its system identifier is ${server.systemIdentifier}, the ledger's checkpoint ${at} was taken on ${recorded.systemIdentifier}`,
    );
    // Timelines and slot positions of two different servers cannot be compared.
    return found;
  }
  if (recorded && recorded.timeline !== server.timeline) {
    const ended = server.history.find((s) => s.timeline === recorded.timeline);
    if (!ended) {
      found.push(
        `the source is on timeline ${server.timeline}, which does not descend from timeline ${recorded.timeline} of the ledger's checkpoint ${at} (a server restored from an older backup?)`,
      );
    } else if (checkpoint > ended.switchLsn) {
      found.push(
        `the source's timeline ${server.timeline} branched from timeline ${recorded.timeline} at ${formatLsn(ended.switchLsn)}, before the ledger's checkpoint ${at}: the changes written on the new timeline between them would be skipped`,
      );
    }
  }
  if (slotState.created) {
    const slotStart = formatLsn(slotState.confirmedFlushLsn);
    found.push(
      checkpoint > slotState.confirmedFlushLsn
        ? `replication slot ${slot} was created now, at ${slotStart}, behind the ledger's checkpoint ${at} of an earlier slot: the changes between them would be skipped`
        : `replication slot ${slot} was created now, at ${slotStart}; the ledger's checkpoint ${at} belongs to an earlier slot: the changes between them are in no stream`,
    );
  }
  return found;
}
