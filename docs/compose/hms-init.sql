-- The example HMS database for docker-compose.yml, run by psql as the server's superuser on every
-- `docker compose up` (changing nothing the second time):
--   * the tables the shipped mappings read, and their publication;
--   * the role ESS connects as, with exactly what `essctl check` asks of it: LOGIN and
--     REPLICATION, USAGE on the tables' schema (PUBLIC has it on "public"), SELECT on the mapped
--     tables, and its own ledger schema, so `essctl migrate` needs no right on the database itself.
-- The role's name and password come from the environment (ESS_DB_USER, default ess;
-- ESS_DB_PASSWORD, required), never from this file.
\set ON_ERROR_STOP on
\getenv ess_role ESS_DB_USER
\if :{?ess_role}
\else
  \set ess_role ess
\endif
\getenv ess_password ESS_DB_PASSWORD
\if :{?ess_password}
\else
  do $$ begin raise exception 'ESS_DB_PASSWORD is not set: the password of the role ESS connects as'; end $$;
\endif

create table if not exists public.permits (
  id            text primary key,
  status        text not null,
  amount        numeric(12,2),
  applicant_ssn text,
  updated_at    timestamptz not null default now()
);
create table if not exists public.hearings (
  id            bigint primary key,
  permit_id     text references public.permits (id),
  family        text not null,
  scheduled_for date not null
);
create table if not exists public.grants (
  id      bigint primary key,
  program text not null,
  amount  numeric(12,2) not null
);

select 'create publication ess_pub'
 where not exists (select 1 from pg_publication where pubname = 'ess_pub') \gexec
select format('alter publication ess_pub add table %s', t)
  from unnest(array['public.permits', 'public.hearings', 'public.grants']) as t
 where not exists (select 1 from pg_publication_tables
                    where pubname = 'ess_pub' and format('%I.%I', schemaname, tablename) = t) \gexec

select format('create role %I', :'ess_role')
 where not exists (select 1 from pg_roles where rolname = :'ess_role') \gexec
-- The password is set on every run, so changing ESS_DB_PASSWORD in .env takes effect on `up`.
select format('alter role %I with login replication nosuperuser nocreatedb nocreaterole password %L',
              :'ess_role', :'ess_password') \gexec
select format('grant select on table public.permits, public.hearings, public.grants to %I', :'ess_role') \gexec
select format('create schema if not exists ess authorization %I', :'ess_role') \gexec
