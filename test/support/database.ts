// A fresh database per test file, cloned from the run's template database (fast, isolated).
import { createHash, randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";

export const TEMPLATE_DATABASE = "ess_test_template";

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  /** Runs one statement on a short-lived connection. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
  drop(): Promise<void>;
}

export function adminUrl(): string {
  return inject("adminUrl");
}

export function databaseUrl(name: string): string {
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

/** Creates a database named after `label` (hashed, so names never collide across files or runs). */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const hash = createHash("sha256").update(label).update(randomBytes(8)).digest("hex").slice(0, 12);
  const name = `ess_t_${hash}`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    await admin.query(`create database ${name} template ${TEMPLATE_DATABASE}`);
  } finally {
    await admin.end();
  }
  const url = databaseUrl(name);
  return {
    name,
    url,
    query: async (sql, params) => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return await client.query(sql, params);
      } finally {
        await client.end();
      }
    },
    drop: async () => {
      await dropDatabase(name);
    },
  };
}

/** Drops a test database, first removing its replication slots (a slot pins the database). */
export async function dropDatabase(name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    await admin.query(
      `select pg_terminate_backend(active_pid) from pg_replication_slots where database = $1 and active_pid is not null`,
      [name],
    );
    await admin.query(`select pg_drop_replication_slot(slot_name) from pg_replication_slots where database = $1`, [
      name,
    ]);
    await admin.query(`drop database if exists ${name} with (force)`);
  } finally {
    await admin.end();
  }
}
