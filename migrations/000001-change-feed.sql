-- The captured change feed, replication checkpoints and the audit trail.
-- :ESS_SCHEMA is replaced by the configured (validated, quoted) schema name.

-- One row per captured change. (commit_lsn, ordinal) is the change's identity: re-reading a
-- transaction after a crash yields the same identity, and the primary key drops the duplicate.
create table :ESS_SCHEMA.feed (
  commit_lsn   pg_lsn      not null,
  ordinal      integer     not null,
  xid          bigint      not null,
  commit_time  timestamptz not null,
  op           text        not null check (op in ('insert', 'update', 'delete', 'truncate', 'message')),
  table_schema text,
  table_name   text,
  -- For application events (pg_logical_emit_message): the topic.
  topic        text,
  -- json, not jsonb: the feed is written once per change and read rarely; json skips the
  -- conversion on every insert, which is most of the cost of capture.
  key          json,
  before       json,
  after        json,
  captured_at  timestamptz not null default now(),
  primary key (commit_lsn, ordinal)
);
create index feed_captured_at_idx on :ESS_SCHEMA.feed (captured_at);

-- The last LSN whose changes are durable in this ledger, per replication slot.
create table :ESS_SCHEMA.checkpoints (
  slot          text        primary key,
  confirmed_lsn pg_lsn      not null,
  updated_at    timestamptz not null default now()
);

-- Append-only: one row per hop of a change or a delivery. Never stores secrets or PII values.
create table :ESS_SCHEMA.audit (
  id          bigint generated always as identity primary key,
  at          timestamptz not null default now(),
  event       text        not null,
  delivery_id bigint,
  token       text,
  connector   text,
  attempt     integer,
  detail      jsonb,
  error       text
);
create index audit_at_idx on :ESS_SCHEMA.audit (at);
create index audit_delivery_idx on :ESS_SCHEMA.audit (delivery_id) where delivery_id is not null;

create function :ESS_SCHEMA.audit_is_append_only() returns trigger language plpgsql as $$
begin
  -- Retention may delete old rows; nothing may rewrite history.
  raise exception 'the ESS audit trail is append-only' using errcode = 'insufficient_privilege';
end
$$;
create trigger audit_no_update before update on :ESS_SCHEMA.audit
  for each row execute function :ESS_SCHEMA.audit_is_append_only();
