-- What a slot's checkpoint belongs to: the source server (its system identifier), the timeline it
-- was on and the position at which ESS first used the slot. Compared with the server at every
-- start, so a checkpoint from another server, another timeline or an earlier slot is never trusted.
create table :ESS_SCHEMA.source_identity (
  slot              text        primary key,
  system_identifier text        not null,
  timeline          integer     not null,
  slot_start_lsn    pg_lsn      not null,
  recorded_at       timestamptz not null default now()
);
