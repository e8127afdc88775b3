// The replication session settings reach a real server through the startup `options` parameter,
// and under them PostgreSQL prints values in the forms the value conversion reads.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PgTimestampTz } from "../../src/change/value.js";
import { REPLICATION_SESSION_SETTINGS, sessionSettingsSql, startupOptions } from "../../src/source/session-settings.js";
import { convertText } from "../../src/source/value-conversion.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

describe("replication session settings", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase("decode-session-settings");
  });
  afterAll(async () => {
    await db?.drop();
  });

  it("escape spaces for the startup options parameter", () => {
    expect(startupOptions()).toBe(
      "-c DateStyle=ISO,\\ YMD -c TimeZone=UTC -c IntervalStyle=iso_8601 -c extra_float_digits=3 -c bytea_output=hex",
    );
    expect(startupOptions({ application_name: "a b\\c" })).toBe("-c application_name=a\\ b\\\\c");
    expect(sessionSettingsSql({ TimeZone: "it's" })).toEqual(["set TimeZone = 'it''s'"]);
  });

  it("are applied by the server when passed as startup options, and fix the value text", async () => {
    const client = new pg.Client({ connectionString: db.url, options: startupOptions() });
    await client.connect();
    try {
      for (const [name, value] of Object.entries(REPLICATION_SESSION_SETTINGS)) {
        const shown = await client.query<{ setting: string }>("select current_setting($1) as setting", [name]);
        expect(shown.rows[0]?.setting).toBe(value);
      }
      const printed = await client.query<{ ts: string; iv: string; f: string; b: string }>(
        `select '2024-01-02 08:34:05.123456+05:30'::timestamptz::text as ts, '1 day 2 hours'::interval::text as iv,
                0.1::float8::text as f, '\\x0aff'::bytea::text as b`,
      );
      const row = printed.rows[0]!;
      expect(row).toEqual({ ts: "2024-01-02 03:04:05.123456+00", iv: "P1DT2H", f: "0.1", b: "\\x0aff" });
      expect(convertText(row.ts, 1184, "timestamptz")).toStrictEqual(new PgTimestampTz("2024-01-02T03:04:05.123456Z"));
    } finally {
      await client.end();
    }
  });
});
