// The pgoutput decoder on real PostgreSQL: raw protocol-1 payloads read from a slot with
// pg_logical_slot_get_binary_changes() (each row is one XLogData payload) after a real workload.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type {
  BeginMessage,
  CommitMessage,
  LogicalMessage,
  RowChangeMessage,
  SourceMessage,
} from "../../src/change/change.js";
import { parseLsn } from "../../src/change/lsn.js";
import { PgDate, PgJson, PgTimestamp, PgTimestampTz, UNCHANGED_TOAST } from "../../src/change/value.js";
import { PgoutputDecoder, pgoutputStartOptions } from "../../src/source/pgoutput-decoder.js";
import { sessionSettingsSql } from "../../src/source/session-settings.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { PUBLICATION, permitOneBody, runWorkload, SCHEMA_SQL, type WorkloadFacts } from "./change-workload.js";

interface Transaction {
  readonly begin: BeginMessage;
  readonly changes: readonly SourceMessage[];
  readonly commit: CommitMessage;
  /** The slot's `lsn` column for the commit row: where the walsender would put the commit. */
  readonly commitRowLsn: bigint;
}

type Unit = Transaction | LogicalMessage;

/** Groups decoded messages into transactions (and non-transactional messages between them). */
function toUnits(decoded: readonly { message: SourceMessage; lsn: bigint }[]): Unit[] {
  const units: Unit[] = [];
  let open: { begin: BeginMessage; changes: SourceMessage[] } | null = null;
  for (const { message, lsn } of decoded) {
    if (message.kind === "begin") {
      expect(open).toBeNull();
      open = { begin: message, changes: [] };
    } else if (message.kind === "commit") {
      expect(open).not.toBeNull();
      units.push({ begin: open!.begin, changes: open!.changes, commit: message, commitRowLsn: lsn });
      open = null;
    } else if (open) {
      open.changes.push(message);
    } else {
      expect(message.kind).toBe("message");
      units.push(message as LogicalMessage);
    }
  }
  expect(open).toBeNull();
  return units;
}

function isTransaction(unit: Unit): unit is Transaction {
  return "begin" in unit;
}

function rows(unit: Unit): RowChangeMessage[] {
  if (!isTransaction(unit)) throw new Error("expected a transaction");
  return unit.changes.filter((c): c is RowChangeMessage => c.kind === "row");
}

function summary(unit: Unit): string {
  if (!isTransaction(unit)) return `message ${unit.prefix}`;
  return unit.changes
    .map((c) => {
      if (c.kind === "row") return `${c.op} ${c.table.name}`;
      if (c.kind === "truncate") return `truncate ${c.tables.map((t) => t.name).join("+")}`;
      if (c.kind === "message") return `message ${c.prefix}`;
      return c.kind;
    })
    .join(", ");
}

const permitOne = {
  id: 1,
  status: "APPROVED",
  amount: "99999999.99",
  exact: "0.0",
  big: 9007199254740993n,
  small: -32768,
  ratio: 0.1,
  r4: 1.5e-7,
  flag: true,
  code: "ab ",
  uid: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
  issued: new PgDate("0044-03-15 BC"),
  at_time: "23:59:59.999999",
  at_timetz: "12:00:00+03",
  span: "P1Y2M3DT4H5M6.7S",
  created: new PgTimestamp("2024-01-02T03:04:05"),
  updated: new PgTimestampTz("2024-01-02T01:04:05.123456Z"),
  doc: new PgJson({ a: { b: [1, 2.5, "12345678901234567890"] } }),
  raw: new PgJson([1, "x"]),
  data: Buffer.alloc(0),
  tags: ["a,b", 'c"d', null, "NULL"],
  matrix: [
    [1n, 2n],
    [3n, 9007199254740993n],
  ],
  stamps: [new PgTimestampTz("infinity"), new PgTimestampTz("2024-06-01T00:00:00Z")],
  feeling: "happy",
  feelings: ["happy", "sad"],
  body: permitOneBody(),
};

const permitTwo = {
  id: 2,
  status: "PENDING",
  amount: null,
  exact: "NaN",
  big: -1n,
  small: 0,
  ratio: Number.NaN,
  r4: Number.NEGATIVE_INFINITY,
  flag: false,
  code: "xyz",
  uid: null,
  issued: new PgDate("infinity"),
  at_time: "00:00:00",
  at_timetz: "00:00:00-05:30",
  span: "P-1D",
  created: new PgTimestamp("infinity"),
  updated: new PgTimestampTz("-infinity"),
  doc: new PgJson(null),
  raw: new PgJson({}),
  data: Buffer.from("deadbeef", "hex"),
  tags: [],
  matrix: [],
  stamps: [],
  feeling: null,
  feelings: [],
  body: "short",
};

describe("pgoutput decoding of a real PostgreSQL workload", () => {
  let db: TestDatabase;
  let facts: WorkloadFacts;
  let units: Unit[];

  beforeAll(async () => {
    db = await createTestDatabase("decode-pgoutput-postgres");
    const slot = `${db.name}_pgoutput`;
    await db.query(SCHEMA_SQL);
    await db.query("select pg_create_logical_replication_slot($1, 'pgoutput')", [slot]);
    facts = await runWorkload(db.url);

    const reader = new pg.Client({ connectionString: db.url });
    await reader.connect();
    try {
      for (const statement of sessionSettingsSql()) await reader.query(statement);
      const options = Object.entries(pgoutputStartOptions(PUBLICATION)).flat();
      const placeholders = options.map((_, i) => `$${i + 2}`).join(", ");
      const result = await reader.query<{ lsn: string; data: Buffer }>(
        `select lsn::text as lsn, data from pg_logical_slot_get_binary_changes($1, null, null, ${placeholders})`,
        [slot, ...options],
      );
      const decoder = new PgoutputDecoder();
      const decoded: { message: SourceMessage; lsn: bigint }[] = [];
      for (const row of result.rows) {
        const message = decoder.decode(row.data);
        if (message) decoded.push({ message, lsn: parseLsn(row.lsn) });
      }
      units = toUnits(decoded);
    } finally {
      await reader.end();
    }
  });

  afterAll(async () => {
    await db?.drop();
  });

  it("delivers committed transactions in commit order, without rolled-back work or unpublished tables", () => {
    expect(units.map(summary)).toEqual([
      "insert permits, insert hearings, message ess.event",
      "insert hearings",
      "insert permits, update permits",
      "message ess.heartbeat",
      "update permits",
      "update permits",
      "insert grants, update grants, delete grants",
      "delete hearings, insert hearings",
      "insert permits",
      "truncate hearings+grants",
    ]);
    const text = JSON.stringify(units, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
    expect(text).not.toMatch(/ROLLED BACK|rolled back|discarded|scratch/);
  });

  it("gives every Begin its transaction's xid and commit LSN, matching the Commit", () => {
    const transactions = units.filter(isTransaction);
    expect(transactions.map((t) => t.begin.xid)).toEqual(facts.xids);
    let previous = 0n;
    for (const t of transactions) {
      expect(t.begin.commitLsn).toBe(t.commit.commitLsn);
      expect(t.commit.endLsn).toBe(t.commitRowLsn);
      expect(t.commit.endLsn > t.commit.commitLsn).toBe(true);
      expect(t.commit.commitLsn > previous).toBe(true);
      previous = t.commit.commitLsn;
      expect(t.begin.commitTime).toStrictEqual(t.commit.commitTime);
      expect(t.commit.commitTime.getTime()).toBeGreaterThanOrEqual(facts.startedAt.getTime() - 1000);
      expect(t.commit.commitTime.getTime()).toBeLessThanOrEqual(facts.finishedAt.getTime() + 1000);
    }
  });

  it("converts every column type of an insert exactly", () => {
    const [permit, hearing] = rows(units[0]!);
    expect(permit!.after).toStrictEqual(permitOne);
    expect(permit!.key).toStrictEqual({ id: 1 });
    expect(permit!.before).toBeNull();
    expect(hearing!.after).toStrictEqual({ id: 1n, permit_id: 1, note: "first hearing" });
    const columns = Object.fromEntries(permit!.columns.map((c) => [c.name, c]));
    expect(columns.id).toMatchObject({ typeName: "int4", isKey: true });
    expect(columns.status).toMatchObject({ typeName: "varchar", typeMod: 24, isKey: false });
    expect(columns.amount).toMatchObject({ typeName: "numeric", typeMod: (10 << 16) + 2 + 4 });
    expect(columns.code).toMatchObject({ typeName: "bpchar", typeMod: 7 });
    expect(columns.feeling).toMatchObject({ typeName: "mood" });
    expect(columns.feelings).toMatchObject({ typeName: "_mood" });
  });

  it("converts special values: NaN, infinities, empty arrays, json null, hex bytea", () => {
    const [insert, update] = rows(units[2]!);
    expect(insert!.after).toStrictEqual(permitTwo);
    expect(update!.after).toStrictEqual({ ...permitTwo, status: "DENIED" });
  });

  it("carries logical messages: transactional inside their transaction, heartbeats on their own", () => {
    const event = (units[0] as Transaction).changes[2] as LogicalMessage;
    expect(event).toMatchObject({ kind: "message", transactional: true, prefix: "ess.event" });
    expect(event.content.toString()).toBe('{"permit":1}');
    expect(event.lsn > 0n).toBe(true);
    const heartbeat = units[3] as LogicalMessage;
    expect(heartbeat).toMatchObject({ kind: "message", transactional: false, prefix: "ess.heartbeat" });
    expect(heartbeat.content.toString()).toBe("tick");
  });

  it("marks a TOASTed column an update did not touch as UNCHANGED_TOAST, not null", () => {
    const [update] = rows(units[4]!);
    expect(update!.after?.body).toBe(UNCHANGED_TOAST);
    expect(update!.after).toStrictEqual({ ...permitOne, status: "REVIEW", body: UNCHANGED_TOAST });
    expect(update!.key).toStrictEqual({ id: 1 });
    expect(update!.before).toStrictEqual({ id: 1 });
  });

  it("keys an update that changes the primary key by the old key", () => {
    const [update] = rows(units[5]!);
    expect(update!.key).toStrictEqual({ id: 2 });
    expect(update!.before).toStrictEqual({ id: 2 });
    expect(update!.after).toStrictEqual({ ...permitTwo, id: 3, status: "DENIED" });
  });

  it("gives whole old rows for a REPLICA IDENTITY FULL table", () => {
    const [insert, update, remove] = rows(units[6]!);
    expect(insert!.columns.every((c) => c.isKey)).toBe(true);
    expect(insert!.key).toStrictEqual({ id: 1, note: "granted" });
    expect(update!.before).toStrictEqual({ id: 1, note: "granted" });
    expect(update!.after).toStrictEqual({ id: 1, note: "amended" });
    expect(remove!.before).toStrictEqual({ id: 1, note: "amended" });
    expect(remove!.after).toBeNull();
  });

  it("decodes deletes by key and keeps only the savepoint work that was committed", () => {
    const [remove, insert] = rows(units[7]!);
    expect(remove).toMatchObject({ op: "delete", key: { id: 1n }, before: { id: 1n }, after: null });
    expect(insert!.after).toMatchObject({ permit_id: 3, note: "kept" });
  });

  it("shows a column added mid-stream in the following changes only", () => {
    const [insert] = rows(units[8]!);
    expect(insert!.columns.map((c) => c.name).at(-1)).toBe("extra");
    expect(insert!.after).toMatchObject({
      id: 4,
      status: "NEW",
      exact: "123456789012345678901234567890.123456789",
      extra: 42,
      body: null,
    });
    const earlier = rows(units[5]!)[0]!;
    expect(earlier.columns.map((c) => c.name)).not.toContain("extra");
  });

  it("decodes one truncate of two tables with its options", () => {
    const truncate = (units[9] as Transaction).changes[0];
    expect(truncate).toStrictEqual({
      kind: "truncate",
      tables: [
        { schema: "public", name: "hearings" },
        { schema: "public", name: "grants" },
      ],
      cascade: true,
      restartIdentity: true,
    });
  });
});
