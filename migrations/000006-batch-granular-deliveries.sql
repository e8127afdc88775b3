-- Delivery state at batch granularity. A delivery row is written once, at capture, and the happy
-- path never updates it: a claim takes a contiguous run of a connector's new deliveries (by id)
-- into a batch row, and sending/sent/retrying/dead and the attempt count of the whole run live on
-- that batch. A row carries a state of its own only where its fate differs from its batch's (a
-- per-item failure of a REST or SOAP partner, a record that could not be rendered, a delivery
-- held back by the ordering rule, a replay, a partner's confirmation): `own_state`.
--
-- The rows move to delivery_items; `deliveries` becomes a view with the same columns as before,
-- each delivery's state resolved from its own row or its batch, so operators' queries, essctl
-- and receipts read the same facts.
--
-- Existing rows keep their explicit states (own_state = true), so nothing pending, retrying,
-- sending or dead is lost: they are claimed, retried and replayed as before, one row at a time.
-- Deliveries made from an application event also keep a state of their own: each change of it
-- is announced to the event's receipt (the triggers move with the table).

alter table :ESS_SCHEMA.deliveries rename to delivery_items;
alter table :ESS_SCHEMA.delivery_items add column own_state boolean not null default true;
alter table :ESS_SCHEMA.delivery_items alter column own_state set default false;

-- Index maintenance is most of the cost of writing a delivery: the rows written at capture have
-- the primary key, the token (idempotency), the correlation id (callbacks), the change identity
-- (receipts, feed retention), the ordering key (backfill) and the claim index below. The
-- state-dependent indexes cover only rows with a state of their own.
drop index :ESS_SCHEMA.deliveries_due_idx;
drop index :ESS_SCHEMA.deliveries_inflight_idx;
drop index :ESS_SCHEMA.deliveries_batch_idx;
drop index :ESS_SCHEMA.deliveries_state_idx;
drop index :ESS_SCHEMA.deliveries_done_idx;
-- Claims read a connector's unclaimed run in id order from here.
create index delivery_items_run_idx on :ESS_SCHEMA.delivery_items (connector, id) where not own_state;
create index delivery_items_due_idx on :ESS_SCHEMA.delivery_items (connector, id)
  where own_state and state in ('pending', 'retrying') and batch_id is null;
create index delivery_items_inflight_idx on :ESS_SCHEMA.delivery_items (connector, ordering_key, id)
  where own_state and state in ('sending', 'retrying');
create index delivery_items_batch_idx on :ESS_SCHEMA.delivery_items (batch_id) where own_state and batch_id is not null;
create index delivery_items_state_idx on :ESS_SCHEMA.delivery_items (connector, state) where own_state;
create index delivery_items_done_idx on :ESS_SCHEMA.delivery_items (updated_at)
  where own_state and state in ('sent', 'confirmed');

-- A batch either lists its members by their batch_id (rows with a state of their own) or covers
-- the run first_id..last_id of its connector (rows without one).
alter table :ESS_SCHEMA.batches add column first_id bigint;
alter table :ESS_SCHEMA.batches add column last_id bigint;
alter table :ESS_SCHEMA.batches add column item_count integer;
alter table :ESS_SCHEMA.batches add column sent_at timestamptz;
-- What the partner answered for the whole run (a drop's file path); a member's own answer is on its row.
alter table :ESS_SCHEMA.batches add column partner_reference text;
create index batches_run_idx on :ESS_SCHEMA.batches (connector, first_id) where first_id is not null;

-- Everything up to here belongs to a batch or has a state of its own. Existing rows all have one.
alter table :ESS_SCHEMA.connectors add column claimed_through bigint not null default 0;
update :ESS_SCHEMA.connectors set claimed_through = coalesce((select max(id) from :ESS_SCHEMA.delivery_items), 0);

create view :ESS_SCHEMA.deliveries as
select i.id, i.token, i.correlation_id, i.connector, i.mapping, i.target_index, i.ordering_key, i.commit_lsn,
       i.ordinal, i.commit_time,
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

-- A delivery inserted through the view with a state owns that state (tools, tests, repairs).
create function :ESS_SCHEMA.deliveries_insert() returns trigger language plpgsql as $$
begin
  insert into :ESS_SCHEMA.delivery_items (token, correlation_id, connector, mapping, target_index, ordering_key, commit_lsn,
                              ordinal, commit_time, state, payload, attempts, next_attempt_at, batch_id, last_error,
                              partner_reference, created_at, updated_at, sent_at, confirmed_at, receipt_id,
                              app_correlation_id, trace_id, max_attempts, first_attempt_at, own_state)
  values (new.token, new.correlation_id, new.connector, new.mapping, new.target_index, new.ordering_key,
          new.commit_lsn, new.ordinal, new.commit_time, coalesce(new.state, 'pending'), new.payload,
          coalesce(new.attempts, 0), coalesce(new.next_attempt_at, now()), new.batch_id, new.last_error,
          new.partner_reference, coalesce(new.created_at, now()), coalesce(new.updated_at, now()), new.sent_at,
          new.confirmed_at, new.receipt_id, new.app_correlation_id, new.trace_id, new.max_attempts,
          new.first_attempt_at, true)
  returning id into new.id;
  return new;
end
$$;
create trigger deliveries_insert instead of insert on :ESS_SCHEMA.deliveries
  for each row execute function :ESS_SCHEMA.deliveries_insert();

-- A delivery changed through the view takes the new values as a state of its own.
create function :ESS_SCHEMA.deliveries_update() returns trigger language plpgsql as $$
begin
  update :ESS_SCHEMA.delivery_items
     set token = new.token, correlation_id = new.correlation_id, connector = new.connector, mapping = new.mapping,
         target_index = new.target_index, ordering_key = new.ordering_key, commit_lsn = new.commit_lsn,
         ordinal = new.ordinal, commit_time = new.commit_time, state = new.state, payload = new.payload,
         attempts = new.attempts, next_attempt_at = new.next_attempt_at, batch_id = new.batch_id,
         last_error = new.last_error, partner_reference = new.partner_reference, created_at = new.created_at,
         updated_at = new.updated_at, sent_at = new.sent_at, confirmed_at = new.confirmed_at,
         receipt_id = new.receipt_id, app_correlation_id = new.app_correlation_id, trace_id = new.trace_id,
         max_attempts = new.max_attempts, first_attempt_at = new.first_attempt_at, own_state = true
   where id = old.id;
  return new;
end
$$;
create trigger deliveries_update instead of update on :ESS_SCHEMA.deliveries
  for each row execute function :ESS_SCHEMA.deliveries_update();

create function :ESS_SCHEMA.deliveries_delete() returns trigger language plpgsql as $$
begin
  delete from :ESS_SCHEMA.delivery_items where id = old.id;
  return old;
end
$$;
create trigger deliveries_delete instead of delete on :ESS_SCHEMA.deliveries
  for each row execute function :ESS_SCHEMA.deliveries_delete();
