-- When a delivery was first attempted: retry.maxAge counts from there, so a delivery that waited
-- behind a pause or a closed schedule window still gets its full retry time. A replay clears it.
alter table :ESS_SCHEMA.deliveries add column first_attempt_at timestamptz;
