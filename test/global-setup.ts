// Vitest global setup: one PostgreSQL for the whole run (embedded, or ESS_TEST_DATABASE_URL),
// with a template database that each test file clones (see test/support/database.ts).

import pg from "pg";
import type { TestProject } from "vitest/node";
import { TEMPLATE_DATABASE } from "./support/database.js";
import { type PostgresServer, startEmbeddedPostgres } from "./support/embedded-server.js";
import { buildEssctlBundle } from "./support/essctl-bundle.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** URL of the maintenance database ("postgres") on the test server. */
    adminUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await buildEssctlBundle();
  const external = process.env.ESS_TEST_DATABASE_URL;
  let server: PostgresServer | undefined;
  let adminUrl: string;
  if (external) {
    adminUrl = external;
  } else {
    server = await startEmbeddedPostgres();
    adminUrl = server.url("postgres");
  }
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const level = await client.query<{ wal_level: string }>("show wal_level");
    if (level.rows[0]?.wal_level !== "logical") {
      throw new Error(
        `the test server at ${redact(adminUrl)} has wal_level=${level.rows[0]?.wal_level}; ESS needs logical`,
      );
    }
    await client.query(`drop database if exists ${TEMPLATE_DATABASE}`);
    await client.query(`create database ${TEMPLATE_DATABASE}`);
  } finally {
    await client.end();
  }
  project.provide("adminUrl", adminUrl);
  return async () => {
    await server?.stop();
  };
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@");
}
