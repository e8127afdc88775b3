-- Changes of source transactions still in progress (pgoutput protocol 2, `streaming on`): a
-- transaction larger than the server's logical_decoding_work_mem arrives in segments before it
-- commits. Its changes wait here, in the order they were made, and move into the feed (with
-- their deliveries and the slot's checkpoint, in one ledger transaction) at its commit; an abort
-- deletes them.
--
-- Unlogged: nothing here is confirmed to the slot, so after a ledger crash (which empties an
-- unlogged table) the source sends every such transaction again from the slot's restart point,
-- and a capture session clears what an earlier session left before it starts.
create unlogged table :ESS_SCHEMA.streamed_changes (
  slot       text    not null,
  -- The top-level transaction.
  xid        bigint  not null,
  -- Position of the change in its transaction.
  seq        integer not null,
  -- The (sub)transaction that made the change: rolling back to a savepoint discards from its
  -- first change on.
  change_xid bigint  not null,
  -- The change in a lossless JSON text form (src/change/message-codec.ts).
  change     text    not null,
  primary key (slot, xid, seq)
);
