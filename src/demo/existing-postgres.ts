// Runs the demo on a PostgreSQL the operator already has (DATABASE_URL): in a database of its own,
// dropped afterwards with its replication slot; the server itself is left as it was.
import { randomBytes } from "node:crypto";
import pg from "pg";
import type { DemoPostgres } from "./embedded-postgres.js";

/** The server at DATABASE_URL cannot host the demo; the message says what to change. */
export class ExistingServerError extends Error {
  override readonly name = "ExistingServerError";
}

export interface ExistingPostgres extends DemoPostgres {
  /** The demo's own database on that server (created by the caller, dropped by stop()). */
  readonly database: string;
  /** Throws ExistingServerError unless wal_level is logical and no database holds `slot` yet. */
  verify(slot: string): Promise<void>;
}

export function existingPostgres(serverUrl: string): ExistingPostgres {
  const database = `ess_demo_${randomBytes(4).toString("hex")}`;
  const base = new URL(serverUrl);
  const url = (name = base.pathname.slice(1) || "postgres"): string => {
    const target = new URL(serverUrl);
    target.pathname = `/${name}`;
    return target.toString();
  };
  const withAdmin = async <T>(work: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: serverUrl, application_name: "ess-demo" });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  };
  let stopped = false;
  return {
    port: Number(base.port || 5432),
    database,
    url,
    verify: (slot) =>
      withAdmin(async (client) => {
        const level = await client.query<{ wal_level: string }>("show wal_level");
        const walLevel = level.rows[0]?.wal_level;
        if (walLevel !== "logical") {
          throw new ExistingServerError(
            `the server at DATABASE_URL has wal_level=${walLevel}; the demo needs logical ` +
              "(ALTER SYSTEM SET wal_level = logical, then a restart), or unset DATABASE_URL for an embedded PostgreSQL",
          );
        }
        // Slot names are global to a server: the demo never touches another database's slot.
        const taken = await client.query<{ database: string }>(
          "select database from pg_replication_slots where slot_name = $1",
          [slot],
        );
        if (taken.rows.length > 0) {
          throw new ExistingServerError(
            `replication slot ${slot} already exists on the server at DATABASE_URL (database ` +
              `${taken.rows[0]?.database}); the demo leaves it alone: unset DATABASE_URL for an embedded PostgreSQL`,
          );
        }
      }),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await withAdmin(async (client) => {
        // A database holding a replication slot cannot be dropped: its slot goes first.
        await client.query(
          "select pg_terminate_backend(active_pid) from pg_replication_slots where database = $1 and active_pid is not null",
          [database],
        );
        await client.query("select pg_drop_replication_slot(slot_name) from pg_replication_slots where database = $1", [
          database,
        ]);
        await client.query(`drop database if exists ${client.escapeIdentifier(database)} with (force)`);
      });
    },
  };
}
