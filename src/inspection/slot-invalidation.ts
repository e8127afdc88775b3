// An invalidated logical slot (wal_status 'lost', or invalidation_reason on PostgreSQL 17): the
// server removed WAL the slot still needed, so changes were lost to it; what it means and the way back.

/** Why the slot is invalidated, or null while it is usable. */
export function slotInvalidation(walStatus: string | null, invalidationReason: string | null): string | null {
  if (invalidationReason) return invalidationReason;
  if (walStatus === "lost") return "wal_removed";
  return null;
}

/** The exact steps, in order, for a DBA and an operator. */
export function invalidatedSlotRecovery(slot: string, mappings: readonly string[]): string[] {
  const each = mappings.length > 0 ? mappings.join(", ") : "<mapping>";
  return [
    `on the source: select pg_drop_replication_slot('${slot}');  -- it can no longer stream; changes it held were removed`,
    "raise max_slot_wal_keep_size (or watch ess_slot_retained_wal_bytes) so the new slot is not invalidated again",
    "essctl start --accept-source-change  -- creates a new slot and starts from it (the ledger's checkpoint belongs to the old one)",
    `essctl backfill <mapping> for each mapping (${each})  -- resends the current rows; tokens make unchanged rows safe`,
  ];
}

export function invalidationSentence(slot: string, reason: string): string {
  return `replication slot ${slot} is invalidated (${reason}): the server removed WAL it still needed, so changes were lost to it`;
}
