// One workload on Debian's PostgreSQL 15, read through a pgoutput slot and a wal2json slot: both
// decoders must yield the same typed messages, change by change, except for the differences
// wal2json forces (documented on Wal2JsonDecoder and normalised here one by one).
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ColumnInfo, RowChangeMessage, SourceMessage, TruncateMessage } from "../../src/change/change.js";
import { UNCHANGED_TOAST, type Value } from "../../src/change/value.js";
import { PgoutputDecoder, pgoutputStartOptions } from "../../src/source/pgoutput-decoder.js";
import { sessionSettingsSql } from "../../src/source/session-settings.js";
import { Wal2JsonDecoder, wal2jsonStartOptions } from "../../src/source/wal2json-decoder.js";
import { MissingPostgresError, startDebianPostgres } from "../support/debian-postgres.js";
import type { PostgresServer } from "../support/embedded-server.js";
import { PUBLICATION, PUBLISHED_TABLES, runWorkload, SCHEMA_SQL } from "./change-workload.js";

const DATABASE = "ess_parity";

async function readSlot(
  client: pg.Client,
  fn: "pg_logical_slot_get_binary_changes" | "pg_logical_slot_get_changes",
  slot: string,
  options: Record<string, string>,
): Promise<Buffer[]> {
  const args = Object.entries(options).flat();
  const placeholders = args.map((_, i) => `$${i + 2}`).join(", ");
  const result = await client.query<{ data: Buffer | string }>(
    `select data from ${fn}($1, null, null, ${placeholders})`,
    [slot, ...args],
  );
  return result.rows.map((r) => (typeof r.data === "string" ? Buffer.from(r.data, "utf8") : r.data));
}

const FLOAT_TYPES = new Set(["float4", "float8", "numeric"]);

/** wal2json 2.5 prints float and numeric NaN/Infinity as JSON null. */
function specialNumbersToNull(row: Record<string, Value> | null, columns: readonly ColumnInfo[]): typeof row {
  if (row === null) return row;
  const out = { ...row };
  for (const c of columns) {
    const v = out[c.name];
    if (!FLOAT_TYPES.has(c.typeName)) continue;
    if ((typeof v === "number" && !Number.isFinite(v)) || v === "NaN" || v === "Infinity" || v === "-Infinity") {
      out[c.name] = null;
    }
  }
  return out;
}

/** The documented differences, applied to either stream so the rest can be compared exactly. */
function normalise(messages: readonly SourceMessage[]): SourceMessage[] {
  const out: SourceMessage[] = [];
  for (const m of messages) {
    if (m.kind === "truncate") {
      // wal2json: one truncate per table, options not printed.
      for (const table of m.tables)
        out.push({ kind: "truncate", tables: [table], cascade: false, restartIdentity: false });
    } else if (m.kind === "row") {
      let row: RowChangeMessage = {
        ...m,
        before: specialNumbersToNull(m.before, m.columns),
        after: specialNumbersToNull(m.after, m.columns),
      };
      // wal2json: an insert is keyed by the primary key, pgoutput by the replica identity (FULL here).
      if (m.op === "insert" && m.table.name === "grants") {
        row = { ...row, key: {}, columns: m.columns.map((c) => ({ ...c, isKey: false })) };
      }
      out.push(row);
    } else if (m.kind === "commit" && out.at(-1)?.kind === "begin") {
      // wal2json: empty transactions (DDL, unpublished tables) are not skipped.
      out.pop();
    } else {
      out.push(m);
    }
  }
  return out;
}

describe("pgoutput and wal2json decode one workload into the same changes", () => {
  let server: PostgresServer;
  let pgoutput: SourceMessage[];
  let wal2json: SourceMessage[];

  beforeAll(async () => {
    server = await startDebianPostgres({ version: 15 });
    const admin = new pg.Client({ connectionString: server.url() });
    await admin.connect();
    await admin.query(`create database ${DATABASE}`);
    await admin.end();
    const url = server.url(DATABASE);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(SCHEMA_SQL);
      await client.query("select pg_create_logical_replication_slot('parity_pgoutput', 'pgoutput')");
      await client.query("select pg_create_logical_replication_slot('parity_wal2json', 'wal2json')");
      await runWorkload(url);
      for (const statement of sessionSettingsSql()) await client.query(statement);
      const binary = await readSlot(
        client,
        "pg_logical_slot_get_binary_changes",
        "parity_pgoutput",
        pgoutputStartOptions(PUBLICATION),
      );
      const json = await readSlot(
        client,
        "pg_logical_slot_get_changes",
        "parity_wal2json",
        wal2jsonStartOptions(PUBLISHED_TABLES),
      );
      const p = new PgoutputDecoder();
      const w = new Wal2JsonDecoder();
      pgoutput = binary.map((b) => p.decode(b)).filter((m): m is SourceMessage => m !== null);
      wal2json = json.map((b) => w.decode(b)).filter((m): m is SourceMessage => m !== null);
    } finally {
      await client.end();
    }
  });

  afterAll(async () => {
    await server?.stop();
  });

  it("yields equal messages once the documented differences are normalised", () => {
    const left = normalise(pgoutput);
    const right = normalise(wal2json);
    expect(left.length).toBeGreaterThan(30);
    expect(right.map((m) => m.kind)).toEqual(left.map((m) => m.kind));
    for (let i = 0; i < left.length; i++) expect(right[i], `message ${i}`).toStrictEqual(left[i]);
  });

  it("agrees on the TOASTed column an update left untouched", () => {
    const isToastUpdate = (m: SourceMessage) => m.kind === "row" && m.after?.body === UNCHANGED_TOAST;
    expect(pgoutput.filter(isToastUpdate)).toHaveLength(1);
    expect(wal2json.filter(isToastUpdate)).toHaveLength(1);
  });

  it("differs where documented: truncate options, special numbers, insert keys of FULL tables, empty transactions", () => {
    const truncates = (ms: SourceMessage[]) => ms.filter((m): m is TruncateMessage => m.kind === "truncate");
    expect(truncates(pgoutput)).toEqual([
      expect.objectContaining({ tables: [expect.anything(), expect.anything()], cascade: true, restartIdentity: true }),
    ]);
    expect(truncates(wal2json).map((t) => [t.tables[0]?.name, t.cascade])).toEqual([
      ["hearings", false],
      ["grants", false],
    ]);

    const permitTwo = (ms: SourceMessage[]) =>
      ms.find((m): m is RowChangeMessage => m.kind === "row" && m.op === "insert" && m.after?.id === 2)!;
    expect(permitTwo(pgoutput).after).toMatchObject({ ratio: Number.NaN, exact: "NaN" });
    expect(permitTwo(wal2json).after).toMatchObject({ ratio: null, exact: null });

    const grantInsert = (ms: SourceMessage[]) =>
      ms.find((m): m is RowChangeMessage => m.kind === "row" && m.op === "insert" && m.table.name === "grants")!;
    expect(grantInsert(pgoutput).key).toStrictEqual({ id: 1, note: "granted" });
    expect(grantInsert(wal2json).key).toStrictEqual({ id: 1 });

    const begins = (ms: SourceMessage[]) => ms.filter((m) => m.kind === "begin").length;
    expect(begins(wal2json)).toBeGreaterThan(begins(pgoutput));
  });

  it("names the Debian packages to install when a server version is missing", async () => {
    const attempt = startDebianPostgres({ version: 99 });
    await expect(attempt).rejects.toBeInstanceOf(MissingPostgresError);
    await expect(attempt).rejects.toThrow(/postgresql-99-wal2json/);
  });
});
