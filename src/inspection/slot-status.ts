// How far a replication slot trails the server: lag to its confirmed position and WAL it retains.
import type pg from "pg";
import { slotInvalidation } from "./slot-invalidation.js";

export interface SlotStatus {
  readonly slot: string;
  readonly exists: boolean;
  readonly active: boolean;
  /** pg_current_wal_lsn() - confirmed_flush_lsn */
  readonly lagBytes: number;
  /** pg_current_wal_lsn() - restart_lsn: WAL the server must keep for this slot. */
  readonly retainedWalBytes: number;
  readonly confirmedFlushLsn: string | null;
  readonly currentLsn: string;
  /** 'reserved' | 'extended' | 'unreserved' | 'lost' (PostgreSQL's wal_status). */
  readonly walStatus: string | null;
  /** Why the slot can no longer stream (wal_removed, rows_removed, …); null while usable. */
  readonly invalidation: string | null;
}

export async function readSlotStatus(client: pg.ClientBase | pg.Pool, slot: string): Promise<SlotStatus> {
  const result = await client.query<{
    current: string;
    exists: boolean;
    active: boolean | null;
    lag: string | null;
    retained: string | null;
    confirmed: string | null;
    wal_status: string | null;
    invalidation_reason: string | null;
  }>(
    `select pg_current_wal_lsn()::text as current,
            s.slot_name is not null as exists,
            s.active,
            greatest(pg_current_wal_lsn() - s.confirmed_flush_lsn, 0)::text as lag,
            greatest(pg_current_wal_lsn() - s.restart_lsn, 0)::text as retained,
            s.confirmed_flush_lsn::text as confirmed,
            s.wal_status,
            -- The column exists from PostgreSQL 17; read through jsonb so older servers answer null.
            to_jsonb(s) ->> 'invalidation_reason' as invalidation_reason
       from (select 1) one
       left join pg_replication_slots s on s.slot_name = $1 and s.database = current_database()`,
    [slot],
  );
  const row = result.rows[0];
  return {
    slot,
    exists: row?.exists ?? false,
    active: row?.active ?? false,
    lagBytes: Number(row?.lag ?? 0),
    retainedWalBytes: Number(row?.retained ?? 0),
    confirmedFlushLsn: row?.confirmed ?? null,
    currentLsn: row?.current ?? "0/0",
    walStatus: row?.wal_status ?? null,
    invalidation: slotInvalidation(row?.wal_status ?? null, row?.invalidation_reason ?? null),
  };
}
