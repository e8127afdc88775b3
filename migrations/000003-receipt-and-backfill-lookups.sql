-- Lookups for Gateway receipts and for essctl backfill. Indexes only: existing rows and writers
-- are unchanged. Hash indexes, because the values come from applications and table keys of any
-- length, and a B-tree entry over its size limit would make capture fail on that change.

-- A receipt id is the "id" of the event's message JSON, which capture keeps in the feed row's `after`.
create index feed_event_id_idx on :ESS_SCHEMA.feed using hash ((after ->> 'id')) where op = 'message';

-- Backfill asks whether a row's lane (mapping target, ordering key) already holds a delivery.
create index deliveries_ordering_key_idx on :ESS_SCHEMA.deliveries using hash (ordering_key);
