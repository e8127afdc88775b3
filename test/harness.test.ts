import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "./support/database.js";

describe("test harness", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase("harness");
  });
  afterAll(async () => {
    await db.drop();
  });

  it("gives each test file its own database on a server with wal_level=logical", async () => {
    const level = await db.query<{ wal_level: string }>("show wal_level");
    expect(level.rows[0]?.wal_level).toBe("logical");
    const current = await db.query<{ current_database: string }>("select current_database()");
    expect(current.rows[0]?.current_database).toBe(db.name);
  });
});
