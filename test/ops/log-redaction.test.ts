// Log lines never carry a secret or the row data a PostgreSQL error quotes, whatever field or message it is in.
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerSecret } from "../../src/config/secrets.js";
import { createLogger } from "../../src/ops/logger.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

const SSN = "123-45-6789";
const SECRET = "Ledger-Pw-5120";

function capturedLogger() {
  const stream = new PassThrough();
  let text = "";
  stream.on("data", (chunk: Buffer) => {
    text += chunk.toString("utf8");
  });
  return { logger: createLogger({ level: "debug", destination: stream }), output: () => text };
}

async function failure(db: TestDatabase, sql: string, params: unknown[] = []): Promise<Error> {
  try {
    await db.query(sql, params);
  } catch (error) {
    return error as Error;
  }
  throw new Error(`expected ${sql} to fail`);
}

describe("log redaction", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase("log-redaction");
    await db.query("create table people (ssn text primary key)");
    await db.query("insert into people values ($1)", [SSN]);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it("item 10: a PostgreSQL error's detail, where and quoted value (row data) never reach the log; its code does", async () => {
    const errors = [
      // detail: Key (ssn)=(123-45-6789) already exists.
      await failure(db, "insert into people values ($1)", [SSN]),
      // message: invalid input syntax for type integer: "123-45-6789"
      await failure(db, "select $1::integer", [SSN]),
      // where: JSON data, line 1: {"ssn":"123-45-6789","note":"\u0000...
      await failure(db, "select $1::jsonb ->> 'note'", [`{"ssn":"${SSN}","note":"\\u0000"}`]),
    ];
    expect(errors.map((e) => (e as Error & { code?: string }).code)).toEqual(["23505", "22P02", "22P05"]);
    // The row data is really there to leak.
    expect(JSON.stringify(errors.map((e) => ({ ...e, message: e.message })))).toContain(SSN);

    const { logger, output } = capturedLogger();
    for (const error of errors) {
      logger.error({ err: error }, "could not store captured changes in the ledger");
      logger.warn({ failure: { cause: error }, batch: "b1" }, "nested");
      logger.error(new Error("wrapped", { cause: error }));
      // The error alone: pino would make its message the line's text.
      logger.error(error);
      logger.child({ connector: "gis" }).warn(error);
    }
    logger.flush();
    const text = output();
    expect(text).not.toContain(SSN);
    for (const code of ["23505", "22P02", "22P05"]) expect(text).toContain(code);
    expect(text).toContain("people_pkey");
    expect(text).toContain('"msg":"invalid input syntax for type integer: \\"…\\""');
  });

  it("item 10: a registered secret or a URL's password in message text or any field is written as ***", async () => {
    registerSecret(SECRET);
    const { logger, output } = capturedLogger();
    logger.info(`connecting with ${SECRET}`);
    logger.warn({ url: "https://u:Url-Pass-7781@partner.example/x", note: { deep: [SECRET] } }, "attempt");
    logger.child({ connector: "gis" }).error(new Error(`ledger refused ${SECRET}`));
    logger.warn(`fetch https://partner.example/x?api_key=Query-Key-6612&x=1 failed`);
    logger.flush();
    const text = output();
    for (const secret of [SECRET, "Url-Pass-7781", "Query-Key-6612"]) expect(text).not.toContain(secret);
    expect(text).toContain("connecting with ***");
    expect(text).toContain("partner.example");
  });
});
