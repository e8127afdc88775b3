-- Three costs of every captured delivery that nothing needs.
--
-- The foreign key from delivery_items.batch_id to batches queued a referential check for every
-- inserted row, although a captured delivery has no batch_id (its run is found by id range) and
-- the check then only confirms the null: 2.6 of 14.6 µs per COPY-ed delivery, measured on
-- 100,000 rows. Only a delivery with a state of its own is given a batch_id, by the claim that
-- inserted that batch in the same transaction, and retention deletes a batch only when no
-- delivery names it: the reference cannot dangle.
--
-- A delivery's correlation id is the readable short form of its token ('ess-' and the 24
-- characters after the token's 'ess1-'): every delivery stored so far carries exactly that.
-- Captured deliveries no longer store it (null: derived from the token, here in the view and in
-- the claims), and one hash index on those 24 characters finds a delivery by either, where
-- there were two (one per column): lookups compare that expression and then the full value.
--
-- Measured by COPY-ing 100,000 deliveries into a migrated ledger: 14.6–15.7 µs and 789 bytes of
-- WAL per row before, 10.0–11.0 µs and 666 bytes after (the foreign key 2.6 µs, the second hash
-- index 0.7 µs and 82 bytes, the stored correlation id about 1 µs and 32 bytes).

alter table :ESS_SCHEMA.delivery_items drop constraint deliveries_batch_id_fkey;

create index delivery_items_token_key_idx on :ESS_SCHEMA.delivery_items using hash ((substr(token, 6, 24)));
drop index :ESS_SCHEMA.delivery_items_token_idx;
drop index :ESS_SCHEMA.delivery_items_correlation_idx;

alter table :ESS_SCHEMA.delivery_items alter column correlation_id drop not null;

create or replace view :ESS_SCHEMA.deliveries as
select i.id, i.token, coalesce(i.correlation_id, 'ess-' || substr(i.token, 6, 24)) as correlation_id, i.connector,
       i.mapping, i.target_index, i.ordering_key, i.commit_lsn, i.ordinal, i.commit_time,
       case when i.own_state then i.state else coalesce(b.state, 'pending') end as state,
       i.payload,
       case when i.own_state then i.attempts else coalesce(b.attempts, 0) end as attempts,
       case when i.own_state or b.id is null then i.next_attempt_at else b.next_attempt_at end as next_attempt_at,
       case when i.own_state then i.batch_id else b.id end as batch_id,
       case when i.own_state then i.last_error else b.last_error end as last_error,
       case when i.own_state then i.partner_reference else coalesce(i.partner_reference, b.partner_reference) end
         as partner_reference,
       i.created_at,
       case when i.own_state or b.id is null then i.updated_at else greatest(i.updated_at, b.updated_at) end
         as updated_at,
       case when i.own_state then i.sent_at else b.sent_at end as sent_at,
       i.confirmed_at, i.receipt_id, i.app_correlation_id, i.trace_id, i.max_attempts,
       -- A run's first attempt is its batch's.
       case when i.own_state or b.id is null then i.first_attempt_at else coalesce(i.first_attempt_at, b.created_at) end
         as first_attempt_at
  from :ESS_SCHEMA.delivery_items i
  left join lateral (
    select r.id, r.state, r.attempts, r.next_attempt_at, r.last_error, r.updated_at, r.sent_at, r.partner_reference,
           r.created_at
      from :ESS_SCHEMA.batches r
     where not i.own_state and r.connector = i.connector and r.first_id <= i.id and r.last_id >= i.id
     order by r.first_id desc
     limit 1) b on true;
