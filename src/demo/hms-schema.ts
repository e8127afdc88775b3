// The demo's HMS database: the tables the shipped mappings read, their publication and the replication slot.
import pg from "pg";

/** Columns the shipped mappings read (mappings/*.yaml): id, status, amount, applicant_ssn, updated_at. */
const HMS_DDL = `
  create table public.permits (
    id            text primary key,
    status        text not null,
    amount        numeric(12,2),
    applicant_ssn text,
    updated_at    timestamptz not null default now()
  );
  create table public.hearings (
    id            bigint primary key,
    permit_id     text references public.permits (id),
    family        text not null,
    scheduled_for date not null
  );
  create table public.grants (
    id      bigint primary key,
    program text not null,
    amount  numeric(12,2) not null
  );
`;

export interface HmsSource {
  readonly databaseUrl: string;
  readonly publication: string;
  readonly slot: string;
  readonly plugin: string;
}

/** Creates the database `name` on the server, then its tables, publication and slot. */
export async function createHmsDatabase(
  adminUrl: string,
  name: string,
  source: Omit<HmsSource, "databaseUrl">,
): Promise<HmsSource> {
  const admin = new pg.Client({ connectionString: adminUrl, application_name: "ess-demo" });
  await admin.connect();
  try {
    await admin.query(`create database ${admin.escapeIdentifier(name)}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  const client = new pg.Client({ connectionString: databaseUrl, application_name: "ess-demo" });
  await client.connect();
  try {
    await client.query(HMS_DDL);
    await client.query(
      `create publication ${client.escapeIdentifier(source.publication)} for table public.permits, public.hearings, public.grants`,
    );
    // Created before the first business change, so the stream starts before anything happens.
    await client.query("select pg_create_logical_replication_slot($1, $2)", [source.slot, source.plugin]);
  } finally {
    await client.end();
  }
  return { ...source, databaseUrl };
}
