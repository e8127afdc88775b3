// A replication workload for decoder integration tests: three published tables covering every
// converted type, inserts/updates/deletes, interleaved transactions, a rollback, a rolled-back
// savepoint, TOAST, REPLICA IDENTITY FULL, a column added mid-stream, logical messages, truncate.
import { createHash } from "node:crypto";
import pg from "pg";
import type { TableRef } from "../../src/change/change.js";

export const PUBLICATION = "ess_pub";

export const PUBLISHED_TABLES: readonly TableRef[] = [
  { schema: "public", name: "permits" },
  { schema: "public", name: "hearings" },
  { schema: "public", name: "grants" },
];

export const SCHEMA_SQL = `
  create type mood as enum ('happy', 'sad');
  create table permits (
    id int primary key,
    status varchar(20) not null,
    amount numeric(10,2),
    exact numeric,
    big int8,
    small int2,
    ratio float8,
    r4 float4,
    flag bool,
    code char(3),
    uid uuid,
    issued date,
    at_time time,
    at_timetz timetz,
    span interval,
    created timestamp,
    updated timestamptz,
    doc jsonb,
    raw json,
    data bytea,
    tags text[],
    matrix int8[],
    stamps timestamptz[],
    feeling mood,
    feelings mood[],
    body text
  );
  create table hearings (id bigserial primary key, permit_id int not null, note text);
  create table grants (id int primary key, note text);
  alter table grants replica identity full;
  create table scratch (id int primary key);
  create publication ${PUBLICATION} for table permits, hearings, grants;
`;

// 300 md5 digests: 9,600 characters that compress poorly, so PostgreSQL stores them out of line (TOAST).
const BODY_SQL = "(select string_agg(md5(g::text), '') from generate_series(1, 300) g)";

/** The large body of permit 1, computed here independently of the server. */
export function permitOneBody(): string {
  let body = "";
  for (let g = 1; g <= 300; g++) body += createHash("md5").update(String(g)).digest("hex");
  return body;
}

const PERMIT_ONE = `insert into permits values (
  1, 'APPROVED', 99999999.99, -0.0, 9007199254740993, -32768, 0.1, 1.5e-7, true, 'ab',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '0044-03-15 BC', '23:59:59.999999', '12:00+03',
  '1 year 2 mons 3 days 04:05:06.7', '2024-01-02 03:04:05', '2024-01-02 03:04:05.123456+02',
  '{"a":{"b":[1,2.5,12345678901234567890]}}', '[1, "x"]', '\\x', '{"a,b","c\\"d",NULL,"NULL"}',
  '{{1,2},{3,9007199254740993}}', array['infinity'::timestamptz, '2024-06-01 00:00+00'], 'happy', '{happy,sad}',
  ${BODY_SQL})`;

const PERMIT_TWO = `insert into permits values (
  2, 'PENDING', null, 'NaN', -1, 0, 'NaN', '-Infinity', false, 'xyz', null, 'infinity', '00:00', '00:00:00-05:30',
  '-1 day', 'infinity', '-infinity', 'null', '{}', '\\xdeadbeef', '{}', '{}', '{}', null, '{}', 'short')`;

export interface WorkloadFacts {
  /** xids of the committed transactions, in commit order, as the server reported them inside each. */
  readonly xids: readonly number[];
  /** Client clock around the whole workload, to bound commit times. */
  readonly startedAt: Date;
  readonly finishedAt: Date;
}

/** Runs the workload on `url` (the schema must exist and the slots must already be created). */
export async function runWorkload(url: string): Promise<WorkloadFacts> {
  const a = new pg.Client({ connectionString: url });
  const b = new pg.Client({ connectionString: url });
  await a.connect();
  await b.connect();
  const xids: number[] = [];
  const xid = async (client: pg.Client): Promise<number> => {
    const result = await client.query<{ xid: string }>("select pg_current_xact_id()::text as xid");
    return Number(result.rows[0]!.xid);
  };
  const startedAt = new Date();
  try {
    // 1. Two tables and an application event in one transaction.
    await a.query("begin");
    await a.query(PERMIT_ONE);
    await a.query("insert into hearings (permit_id, note) values (1, 'first hearing')");
    await a.query(`select pg_logical_emit_message(true, 'ess.event', '{"permit":1}')`);
    xids.push(await xid(a));
    await a.query("commit");

    // 2. A rolled-back transaction never appears.
    await a.query("begin");
    await a.query("insert into permits (id, status) values (99, 'ROLLED BACK')");
    await a.query("insert into hearings (permit_id, note) values (99, 'rolled back')");
    await a.query("rollback");

    // 3. Interleaved transactions arrive in commit order: b commits first.
    await a.query("begin");
    await a.query(PERMIT_TWO);
    await b.query("begin");
    await b.query("insert into hearings (permit_id, note) values (2, 'concurrent')");
    const xidB = await xid(b);
    await a.query("update permits set status = 'DENIED' where id = 2");
    const xidA = await xid(a);
    await b.query("commit");
    xids.push(xidB);
    await a.query("commit");
    xids.push(xidA);

    // 4. A non-transactional message (a heartbeat) and a change to an unpublished table.
    await a.query(`select pg_logical_emit_message(false, 'ess.heartbeat', 'tick')`);
    await a.query("insert into scratch values (1)");

    // 5. An update that leaves the TOASTed body alone.
    await a.query("begin");
    await a.query("update permits set status = 'REVIEW' where id = 1");
    xids.push(await xid(a));
    await a.query("commit");

    // 6. An update that changes the key.
    await a.query("begin");
    await a.query("update permits set id = 3 where id = 2");
    xids.push(await xid(a));
    await a.query("commit");

    // 7. REPLICA IDENTITY FULL: insert, update, delete in one transaction.
    await a.query("begin");
    await a.query("insert into grants values (1, 'granted')");
    await a.query("update grants set note = 'amended' where id = 1");
    await a.query("delete from grants where id = 1");
    xids.push(await xid(a));
    await a.query("commit");

    // 8. A delete, and a savepoint rolled back inside a committed transaction.
    await a.query("begin");
    await a.query("delete from hearings where note = 'first hearing'");
    await a.query("savepoint s");
    await a.query("insert into hearings (permit_id, note) values (3, 'discarded')");
    await a.query("rollback to savepoint s");
    await a.query("insert into hearings (permit_id, note) values (3, 'kept')");
    xids.push(await xid(a));
    await a.query("commit");

    // 9. A column added mid-stream shows up in the following changes.
    await a.query("alter table permits add column extra int");
    await a.query("begin");
    await a.query(
      `insert into permits (id, status, exact, extra) values (4, 'NEW', '123456789012345678901234567890.123456789', 42)`,
    );
    xids.push(await xid(a));
    await a.query("commit");

    // 10. Truncate of two tables at once.
    await a.query("begin");
    await a.query("truncate hearings, grants restart identity cascade");
    xids.push(await xid(a));
    await a.query("commit");
  } finally {
    await a.end();
    await b.end();
  }
  return { xids, startedAt, finishedAt: new Date() };
}
