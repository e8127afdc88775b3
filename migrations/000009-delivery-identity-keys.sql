-- Idempotency of captured deliveries by their change's identity instead of by their token.
--
-- A captured delivery's token is a hash of (connector, mapping, target, commit LSN, ordinal), so
-- the change identity is unique exactly where the token is. Its B-tree grows at its right edge,
-- as capture writes in commit order; the token's and the correlation id's B-trees took every
-- insert at a random page, and once a large transaction's deliveries outgrew shared_buffers each
-- insert read and wrote a page of its own (a million-row transaction took a third less time
-- with shared_buffers at 1 GB than at the default 128 MB). Token and correlation id lookups (partner
-- answers, the audit of events and dead letters) keep hash indexes: a hash entry is a quarter of
-- the size of these B-tree entries.
--
-- Deliveries with no change identity (a backfill's) keep a unique token, in a partial index.

create unique index delivery_items_change_key
  on :ESS_SCHEMA.delivery_items (commit_lsn, ordinal, connector, mapping, target_index);
create unique index delivery_items_identityless_token_key
  on :ESS_SCHEMA.delivery_items (token) where commit_lsn is null;
create index delivery_items_token_idx on :ESS_SCHEMA.delivery_items using hash (token);
create index delivery_items_correlation_idx on :ESS_SCHEMA.delivery_items using hash (correlation_id);

alter table :ESS_SCHEMA.delivery_items drop constraint deliveries_token_key;
drop index :ESS_SCHEMA.deliveries_correlation_idx;
-- Its columns lead the change key.
drop index :ESS_SCHEMA.deliveries_source_idx;
