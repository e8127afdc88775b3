// The `ess` schema as kysely sees it: one interface per table or view, column types as node-postgres
// returns them (bigint and pg_lsn as text, timestamptz as Date, json as parsed values, bytea as Buffer).
// Kept in step with migrations/*.sql by test/ledger/ledger-schema.test.ts, which compares these
// column lists with the migrated database.
import type { ColumnType, Generated, GeneratedAlways } from "kysely";

/** bigint: read as text (no precision lost), written as text, number or bigint. */
export type Int8 = ColumnType<string, string | number | bigint, string | number | bigint>;
/** timestamptz: read as a Date, written as a Date or ISO text. */
export type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** json / jsonb: read parsed; written as JSON text (node-postgres would send a JS array as a PostgreSQL array). */
/** A bigint column with a default. */
export type DefaultedInt8 = ColumnType<string, string | number | bigint | undefined, string | number | bigint>;
/** A timestamptz column with a default (usually now()). */
export type DefaultedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
export type Json<T = unknown> = ColumnType<T, string, string>;

export type FeedOp = "insert" | "update" | "delete" | "truncate" | "message";
export type BatchState = "sending" | "sent" | "retrying" | "dead";
export const DELIVERY_STATES = ["pending", "sending", "sent", "confirmed", "retrying", "dead"] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];
export type AnswerStatus = "accepted" | "rejected";

export interface MigrationsTable {
  version: number;
  name: string;
  applied_at: Generated<Date>;
}

/** One row per captured change; (commit_lsn, ordinal) is its identity. */
export interface FeedTable {
  commit_lsn: string;
  ordinal: number;
  xid: Int8;
  commit_time: Timestamp;
  op: FeedOp;
  table_schema: string | null;
  table_name: string | null;
  topic: string | null;
  key: Json | null;
  before: Json | null;
  after: Json | null;
  captured_at: DefaultedTimestamp;
}

export interface CheckpointsTable {
  slot: string;
  confirmed_lsn: string;
  updated_at: DefaultedTimestamp;
}

export interface AuditTable {
  id: GeneratedAlways<string>;
  at: ColumnType<Date, Date | string | undefined, never>;
  event: string;
  delivery_id: Int8 | null;
  token: string | null;
  connector: string | null;
  attempt: number | null;
  detail: Json | null;
  error: string | null;
}

export interface BatchesTable {
  id: GeneratedAlways<string>;
  connector: string;
  /** Per-connector sequence: the {batch} of drop file names. */
  sequence: Int8;
  name: string | null;
  state: BatchState;
  attempts: Generated<number>;
  next_attempt_at: DefaultedTimestamp;
  lease_until: Timestamp | null;
  owner: string | null;
  adapter_state: Json<Record<string, unknown>> | null;
  last_error: string | null;
  created_at: DefaultedTimestamp;
  updated_at: DefaultedTimestamp;
  /** The run first_id..last_id of the connector's deliveries this batch covers (null: members by batch_id). */
  first_id: Int8 | null;
  last_id: Int8 | null;
  item_count: number | null;
  sent_at: Timestamp | null;
  partner_reference: string | null;
}

/** The stored deliveries; a row's state is its own only when own_state, else its batch's. */
export interface DeliveryItemsTable {
  id: GeneratedAlways<string>;
  token: string;
  /** Null: the token's short form (correlationIdOf), which is what captured deliveries would store. */
  correlation_id: string | null;
  connector: string;
  mapping: string;
  target_index: number;
  ordering_key: string;
  commit_lsn: string | null;
  ordinal: number | null;
  commit_time: Timestamp;
  state: DeliveryState;
  payload: Buffer | null;
  attempts: Generated<number>;
  next_attempt_at: DefaultedTimestamp;
  batch_id: Int8 | null;
  last_error: string | null;
  partner_reference: string | null;
  created_at: DefaultedTimestamp;
  updated_at: DefaultedTimestamp;
  sent_at: Timestamp | null;
  confirmed_at: Timestamp | null;
  receipt_id: string | null;
  app_correlation_id: string | null;
  trace_id: string | null;
  max_attempts: number | null;
  first_attempt_at: Timestamp | null;
  own_state: Generated<boolean>;
}

/**
 * The view over delivery_items with each delivery's state resolved from its own row or its batch.
 * Insertable and updatable through its triggers (a row changed through it owns its state).
 */
export interface DeliveriesView {
  id: Generated<string>;
  token: string;
  correlation_id: string;
  connector: string;
  mapping: string;
  target_index: number;
  ordering_key: string;
  commit_lsn: string | null;
  ordinal: number | null;
  commit_time: Timestamp;
  state: ColumnType<DeliveryState, DeliveryState | undefined, DeliveryState>;
  payload: Buffer | null;
  attempts: Generated<number>;
  next_attempt_at: DefaultedTimestamp;
  batch_id: Int8 | null;
  last_error: string | null;
  partner_reference: string | null;
  created_at: DefaultedTimestamp;
  updated_at: DefaultedTimestamp;
  sent_at: Timestamp | null;
  confirmed_at: Timestamp | null;
  receipt_id: string | null;
  app_correlation_id: string | null;
  trace_id: string | null;
  max_attempts: number | null;
  first_attempt_at: Timestamp | null;
}

export interface ConnectorsTable {
  connector: string;
  paused: Generated<boolean>;
  online: Generated<boolean>;
  heartbeat_failures: Generated<number>;
  /** Set when the adapter found a state it cannot resolve alone. */
  attention: string | null;
  next_sequence: DefaultedInt8;
  last_success_at: Timestamp | null;
  last_heartbeat_at: Timestamp | null;
  updated_at: DefaultedTimestamp;
  /** Every delivery id up to here belongs to a batch or has a state of its own. */
  claimed_through: DefaultedInt8;
}

export interface InboundEventsTable {
  id: GeneratedAlways<string>;
  connector: string;
  delivery_id: Int8 | null;
  correlation: string;
  body: Json<Record<string, unknown>>;
  received_at: DefaultedTimestamp;
  status: AnswerStatus | null;
  reference: string | null;
  message: string | null;
  via: string | null;
}

export interface PulledFilesTable {
  connector: string;
  name: string;
  checksum: string;
  answers: number;
  unmatched: number;
  pulled_at: DefaultedTimestamp;
}

export interface SourceIdentityTable {
  slot: string;
  system_identifier: string;
  timeline: number;
  slot_start_lsn: string;
  recorded_at: DefaultedTimestamp;
}

/** A change of a source transaction still in progress, waiting for its commit (pgoutput streaming). */
export interface StreamedChangesTable {
  slot: string;
  xid: Int8;
  seq: number;
  change_xid: Int8;
  change: string;
}

export interface LedgerSchema {
  migrations: MigrationsTable;
  feed: FeedTable;
  checkpoints: CheckpointsTable;
  audit: AuditTable;
  batches: BatchesTable;
  delivery_items: DeliveryItemsTable;
  deliveries: DeliveriesView;
  connectors: ConnectorsTable;
  inbound_events: InboundEventsTable;
  pulled_files: PulledFilesTable;
  source_identity: SourceIdentityTable;
  streamed_changes: StreamedChangesTable;
}

export type LedgerTableName = keyof LedgerSchema;
