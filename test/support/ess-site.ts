// A complete ESS site for end-to-end tests: a source database with permits, its publication and
// slot, a migrated ledger, and a configuration directory (ess.yaml, connectors/, mappings/).
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config/index.js";
import type { EssConfig } from "../../src/config/types.js";
import { migrate } from "../../src/ledger/migrate.js";
import { createTestDatabase, type TestDatabase } from "./database.js";

export interface EssSite {
  readonly db: TestDatabase;
  readonly dir: string;
  readonly configPath: string;
  readonly dropDir: string;
  load(): Promise<EssConfig>;
  cleanup(): Promise<void>;
}

export interface SiteFiles {
  /** connectors/<name>.yaml contents by name. */
  readonly connectors: Readonly<Record<string, string>>;
  /** mappings/<name>.yaml contents by name. */
  readonly mappings: Readonly<Record<string, string>>;
  readonly retention?: string;
  readonly heartbeat?: string;
  /** More top-level ess.yaml lines (e.g. an `events:` block). */
  readonly essYaml?: string;
  /** http.inbound (the partners' listener), e.g. "{ listen: 127.0.0.1:0 }". */
  readonly httpInbound?: string;
}

export const PERMITS_TABLE = `
  create table public.permits (
    id text primary key,
    status text not null,
    amount numeric(12,2),
    applicant_ssn text,
    updated_at timestamptz not null default now()
  );
  create publication ess_pub for table public.permits;
`;

export async function createSite(label: string, files: (site: { dropDir: string }) => SiteFiles): Promise<EssSite> {
  const db = await createTestDatabase(label);
  await db.query(PERMITS_TABLE);
  // Its own statement: a slot cannot be created in a transaction that has written. Slot names
  // are global to the server, so each site's slot is named after its database.
  const slot = `slot_${db.name}`;
  await db.query("select pg_create_logical_replication_slot($1, 'pgoutput')", [slot]);
  await migrate({ connectionString: db.url, schema: "ess" });
  const dir = await mkdtemp(join(tmpdir(), "ess-site-"));
  const dropDir = join(dir, "drop");
  await mkdir(dropDir);
  await mkdir(join(dir, "connectors"));
  await mkdir(join(dir, "mappings"));
  const content = files({ dropDir });
  await writeFile(
    join(dir, "ess.yaml"),
    [
      "database:",
      `  url: ${db.url}`,
      "ledger:",
      "  schema: ess",
      `  retention: ${content.retention ?? "{ delivered: 7d, audit: 400d }"}`,
      "replication:",
      `  slot: ${slot}`,
      "  publication: ess_pub",
      `  heartbeat: ${content.heartbeat ?? "1s"}`,
      "connectors: ./connectors",
      "mappings: ./mappings",
      "http:",
      "  listen: 127.0.0.1:0",
      content.httpInbound ? `  inbound: ${content.httpInbound}` : "",
      content.essYaml ?? "",
      "",
    ].join("\n"),
  );
  for (const [name, text] of Object.entries(content.connectors)) {
    await writeFile(join(dir, "connectors", `${name}.yaml`), text);
  }
  for (const [name, text] of Object.entries(content.mappings)) {
    await writeFile(join(dir, "mappings", `${name}.yaml`), text);
  }
  const configPath = join(dir, "ess.yaml");
  return {
    db,
    dir,
    configPath,
    dropDir,
    load: () => loadConfig(configPath, { env: {} }),
    cleanup: async () => {
      await db.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A file drop connector writing one fixed-width file per batch. */
export function fileDropConnector(name: string, dropDir: string, extra = ""): string {
  return [
    `name: ${name}`,
    "adapter: file",
    "file:",
    `  dir: ${dropDir}`,
    '  file: "permits_{batch}.txt"',
    "  mode: file-per-batch",
    "  tempSuffix: .part",
    "encoding: utf-8",
    "batch: { maxRecords: 50, maxWait: 200ms }",
    "retry: { maxAttempts: 3, initialDelay: 200ms, maxDelay: 1s }",
    "heartbeat: { every: 1s, offlineAfter: 3 }",
    extra,
  ].join("\n");
}

export function permitStatusMapping(connector: string, format = "fixed-width"): string {
  const fields =
    format === "fixed-width"
      ? [
          "    fields:",
          "      PERMIT_ID: id | width:10",
          "      STATUS: status | width:10",
          "      TS: updated_at | format:%Y%m%d%H%M%S",
        ]
      : ["    fields: { permit_id: id, status: status | lower }"];
  return [
    "name: permit_status",
    "source:",
    "  table: public.permits",
    "timezone: America/New_York",
    "pii: [applicant_ssn]",
    "targets:",
    `  - connector: ${connector}`,
    `    format: ${format}`,
    ...fields,
    "",
  ].join("\n");
}
