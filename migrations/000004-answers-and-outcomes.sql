-- The two lanes: partners' answers with a verdict, pulled answer files recorded once, outcome
-- notifications for applications, per-event options, and ess.send() for any language.

-- Deliveries made from an application event know it: the receipt id (the event's id) and the
-- options the application gave (its own correlation id, a trace id, a tighter maxAttempts).
alter table :ESS_SCHEMA.deliveries
  add column receipt_id         uuid,
  add column app_correlation_id text,
  add column trace_id           text,
  add column max_attempts       integer check (max_attempts between 1 and 1000);
create index deliveries_receipt_idx on :ESS_SCHEMA.deliveries (receipt_id) where receipt_id is not null;

-- Every answer is kept: its verdict, the partner's reference and message, and where it came
-- from (a callback, a pulled file, a status poll). delivery_id is null for an answer that
-- quoted no known delivery: stored and reported, never dropped.
alter table :ESS_SCHEMA.inbound_events
  add column status    text check (status in ('accepted', 'rejected')),
  add column reference text,
  add column message   text,
  add column via       text;
create index inbound_events_unmatched_idx on :ESS_SCHEMA.inbound_events (connector, received_at)
  where delivery_id is null;

-- An answer file is applied once: its name and checksum are recorded in the transaction that
-- applies its answers, so a file read again (a crash before it was moved to done) is only moved.
create table :ESS_SCHEMA.pulled_files (
  connector text        not null,
  name      text        not null,
  checksum  text        not null,
  answers   integer     not null,
  unmatched integer     not null,
  pulled_at timestamptz not null default now(),
  primary key (connector, name, checksum)
);

-- NOTIFY ess_receipts: one notification per state change of a delivery made from an event,
-- with the event's overall state (the rule of receiptState in the library).
create function :ESS_SCHEMA.notify_receipt() returns trigger language plpgsql as $$
declare
  overall text;
begin
  select case
           when bool_or(d.state = 'dead') then 'dead'
           when bool_or(d.state = 'retrying') then 'retrying'
           when bool_or(d.state in ('pending', 'sending')) then 'pending'
           when bool_or(d.state = 'sent') then 'sent'
           else 'confirmed'
         end
    into overall
    from :ESS_SCHEMA.deliveries d where d.receipt_id = new.receipt_id;
  perform pg_notify('ess_receipts', json_build_object(
    'schema', tg_table_schema,
    'receiptId', new.receipt_id,
    'state', overall,
    'deliveryId', new.id::text,
    'connector', new.connector,
    'deliveryState', new.state,
    'correlationId', new.app_correlation_id,
    'traceId', new.trace_id)::text);
  return null;
end
$$;
create trigger deliveries_receipt_inserted after insert on :ESS_SCHEMA.deliveries
  for each row when (new.receipt_id is not null)
  execute function :ESS_SCHEMA.notify_receipt();
-- 'sending' is invisible to applications (their receipt reads pending), so it is not announced.
create trigger deliveries_receipt_changed after update of state on :ESS_SCHEMA.deliveries
  for each row when (new.receipt_id is not null and old.state is distinct from new.state and new.state <> 'sending')
  execute function :ESS_SCHEMA.notify_receipt();

-- ess.send(): the message Gateway.send() emits, from any language, in the caller's transaction.
-- The content is JSON: {"id": <uuid>, "topic": <text>, "payload": <object>, "options": <object>}.
create function :ESS_SCHEMA.send(topic text, payload jsonb, options jsonb default '{}') returns uuid
language plpgsql volatile as $$
declare
  event_id uuid := gen_random_uuid();
  content  jsonb;
  unknown  text;
begin
  if topic is null or topic !~ '^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,199}$' then
    raise exception 'ess.send: invalid topic %', coalesce(quote_literal(left(topic, 80)), 'null')
      using errcode = 'invalid_parameter_value',
            hint = 'a topic of letters, digits and . _ - : (e.g. permit.approved)';
  end if;
  if payload is null or jsonb_typeof(payload) <> 'object' then
    raise exception 'ess.send: payload must be a JSON object of fields, got %', coalesce(jsonb_typeof(payload), 'null')
      using errcode = 'invalid_parameter_value';
  end if;
  if options is null or jsonb_typeof(options) <> 'object' then
    raise exception 'ess.send: options must be a JSON object' using errcode = 'invalid_parameter_value';
  end if;
  select string_agg(k, ', ') into unknown
    from jsonb_object_keys(options) k where k not in ('maxAttempts', 'correlationId', 'traceId');
  if unknown is not null then
    raise exception 'ess.send: unknown option(s) %', unknown
      using errcode = 'invalid_parameter_value', hint = 'options are maxAttempts, correlationId and traceId';
  end if;
  if options ? 'maxAttempts' and (jsonb_typeof(options -> 'maxAttempts') <> 'number'
      or (options ->> 'maxAttempts')::numeric not between 1 and 1000
      or (options ->> 'maxAttempts')::numeric <> trunc((options ->> 'maxAttempts')::numeric)) then
    raise exception 'ess.send: options.maxAttempts must be a whole number from 1 to 1000'
      using errcode = 'invalid_parameter_value';
  end if;
  if (options ? 'correlationId' and (jsonb_typeof(options -> 'correlationId') <> 'string'
        or options ->> 'correlationId' !~ '^[\x21-\x7e]{1,200}$'))
     or (options ? 'traceId' and (jsonb_typeof(options -> 'traceId') <> 'string'
        or options ->> 'traceId' !~ '^[\x21-\x7e]{1,200}$')) then
    raise exception 'ess.send: options.correlationId and options.traceId must be printable text of at most 200 characters'
      using errcode = 'invalid_parameter_value';
  end if;
  -- Below wal_level=logical the message would be written and never decoded: a lost event.
  if current_setting('wal_level') <> 'logical' then
    raise exception 'ess.send: the database runs with wal_level=%; events need wal_level=logical',
      current_setting('wal_level') using errcode = 'object_not_in_prerequisite_state';
  end if;
  content := jsonb_build_object('id', event_id, 'topic', topic, 'payload', payload);
  if options <> '{}'::jsonb then
    content := content || jsonb_build_object('options', options);
  end if;
  perform pg_logical_emit_message(true, 'ess.event', content::text);
  return event_id;
end
$$;
