-- Deliveries (one per change and mapping target), the batches they travel in, and per-connector state.

create table :ESS_SCHEMA.batches (
  id            bigint generated always as identity primary key,
  connector     text        not null,
  -- Per-connector sequence: the {batch} of drop file names.
  sequence      bigint      not null,
  -- The drop file name, chosen once before the first attempt, so a resend rewrites the same file.
  name          text,
  state         text        not null check (state in ('sending', 'sent', 'retrying', 'dead')),
  attempts      integer     not null default 0,
  next_attempt_at timestamptz not null default now(),
  -- A batch left in 'sending' by a process that died is taken over once its lease has expired.
  lease_until   timestamptz,
  owner         text,
  -- Adapter bookkeeping made durable before the adapter goes on (e.g. an append offset).
  adapter_state jsonb,
  last_error    text,
  created_at    timestamptz not null default now(),
  updated_at    timestamptz not null default now(),
  unique (connector, sequence)
);
create index batches_due_idx on :ESS_SCHEMA.batches (connector, next_attempt_at) where state in ('sending', 'retrying');

create table :ESS_SCHEMA.deliveries (
  id             bigint generated always as identity primary key,
  -- Derived from connector, mapping target and change identity: re-capturing after a crash
  -- yields the same token, and this constraint drops the duplicate.
  token          text        not null unique,
  correlation_id text        not null,
  connector      text        not null,
  mapping        text        not null,
  target_index   integer     not null,
  ordering_key   text        not null,
  commit_lsn     pg_lsn,
  ordinal        integer,
  commit_time    timestamptz not null,
  state          text        not null check (state in ('pending', 'sending', 'sent', 'confirmed', 'retrying', 'dead')),
  -- The rendered bytes: a retry sends exactly what the first attempt sent. Null when mapping failed.
  payload        bytea,
  attempts       integer     not null default 0,
  next_attempt_at timestamptz not null default now(),
  batch_id       bigint references :ESS_SCHEMA.batches (id) on delete set null,
  last_error     text,
  partner_reference text,
  created_at     timestamptz not null default now(),
  updated_at     timestamptz not null default now(),
  sent_at        timestamptz,
  confirmed_at   timestamptz
);
-- The claimable deliveries in id order: a claim reads only these, however many sent rows
-- retention still keeps.
create index deliveries_due_idx on :ESS_SCHEMA.deliveries (connector, id)
  where state in ('pending', 'retrying') and batch_id is null;
-- Only deliveries on their way or waiting for a retry can hold back later ones of their key:
-- the ordering barrier reads this small index, never the backlog.
create index deliveries_inflight_idx on :ESS_SCHEMA.deliveries (connector, ordering_key, id)
  where state in ('sending', 'retrying');
create index deliveries_batch_idx on :ESS_SCHEMA.deliveries (batch_id) where batch_id is not null;
create index deliveries_state_idx on :ESS_SCHEMA.deliveries (connector, state);
create index deliveries_done_idx on :ESS_SCHEMA.deliveries (updated_at) where state in ('sent', 'confirmed');
create index deliveries_source_idx on :ESS_SCHEMA.deliveries (commit_lsn, ordinal);
-- Partner callbacks quote the correlation id.
create index deliveries_correlation_idx on :ESS_SCHEMA.deliveries (correlation_id);

create table :ESS_SCHEMA.connectors (
  connector      text        primary key,
  paused         boolean     not null default false,
  online         boolean     not null default true,
  heartbeat_failures integer not null default 0,
  -- Set when the adapter found a state it cannot resolve alone (e.g. an append file of unknown size).
  attention      text,
  next_sequence  bigint      not null default 1,
  last_success_at timestamptz,
  last_heartbeat_at timestamptz,
  updated_at     timestamptz not null default now()
);

create table :ESS_SCHEMA.inbound_events (
  id          bigint generated always as identity primary key,
  connector   text        not null,
  delivery_id bigint      references :ESS_SCHEMA.deliveries (id) on delete set null,
  correlation text        not null,
  body        jsonb       not null,
  received_at timestamptz not null default now()
);
