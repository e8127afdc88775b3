// A site for the fault tests: a source database with the workload's tables, its slot and
// publication, a migrated ledger, three partners behind three connectors (a drop directory with
// one file per batch, an append file, a REST endpoint) and one mapping sending every change to all.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { migrate } from "../../src/ledger/migrate.js";
import type { SshServer } from "../support/sshd.js";
import { FAULT_SOURCE_DDL } from "./workload.js";

export interface FaultSite {
  readonly sourceUrl: string;
  readonly ledgerUrl: string;
  readonly slot: string;
  readonly dir: string;
  readonly configPath: string;
  /** file-per-batch drops: `batch_<sequence>.txt`. */
  readonly dropDir: string;
  /** The append connector's one growing file lives here. */
  readonly appendDir: string;
  cleanup(): Promise<void>;
}

export interface FaultSiteOptions {
  /** A URL on the server for `database` (the maintenance database is "postgres"). */
  readonly urlFor: (database: string) => string;
  readonly name: string;
  /** REST partner origin; without it there is no REST connector. */
  readonly restUrl?: string;
  /** Put the ledger in its own database (`ledger.url`). */
  readonly separateLedger?: boolean;
  readonly plugin?: "pgoutput" | "wal2json";
  /** batch.maxWait of the drop connectors. */
  readonly maxWait?: string;
  /** batch.maxRecords of the drop connectors (default 40: many batches, many places to be killed). */
  readonly maxRecords?: number;
  /** A SOAP partner (the county scheduler's WSDL): connector `soap_partner`. */
  readonly soap?: { readonly url: string; readonly wsdl: string };
  /** An SFTP partner taking one file per batch: connector `sftp_batches`, into the server's drop directory. */
  readonly sftp?: { readonly server: SshServer; readonly keyFile: string };
  /** The ledger on another server than the source (`ledger.url`): a URL there for a database. */
  readonly ledgerUrlFor?: (database: string) => string;
  /** An FTPS partner: adds connector `ftp_append`, appending to `permits.txt` in `dir` over TLS. */
  readonly ftp?: FtpPartner;
}

export interface FtpPartner {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly password: string;
  /** The server certificate (PEM file) trusted as its CA. */
  readonly caFile: string;
  /** The drop directory as the FTP client names it. */
  readonly dir: string;
  /** The append file's name template (default permits.txt). */
  readonly file?: string;
  /** `rotate:` of the connector. */
  readonly rotate?: string;
}

/** Fixed-width record of every drop: ID(8) SEQ(10) TOKEN(45), CRLF. */
export const RECORD = { id: [0, 8], seq: [8, 18], token: [18, 63] } as const;

export async function createFaultSite(options: FaultSiteOptions): Promise<FaultSite> {
  const sourceDb = `ess_f_${options.name}`;
  const ledgerDb = options.separateLedger || options.ledgerUrlFor ? `${sourceDb}_ledger` : sourceDb;
  const ledgerUrlFor = options.ledgerUrlFor ?? options.urlFor;
  await recreateDatabase(options.urlFor("postgres"), sourceDb);
  if (ledgerDb !== sourceDb) await recreateDatabase(ledgerUrlFor("postgres"), ledgerDb);
  const sourceUrl = options.urlFor(sourceDb);
  const ledgerUrl = ledgerUrlFor(ledgerDb);
  const slot = `slot_${sourceDb}`.slice(0, 63);
  const plugin = options.plugin ?? "pgoutput";
  const client = new pg.Client({ connectionString: sourceUrl });
  await client.connect();
  try {
    await client.query(FAULT_SOURCE_DDL);
    await client.query("select pg_create_logical_replication_slot($1, $2)", [slot, plugin]);
  } finally {
    await client.end();
  }
  await migrate({ connectionString: ledgerUrl, schema: "ess" });
  const dir = await mkdtemp(join(tmpdir(), "ess-fault-site-"));
  const dropDir = join(dir, "drop");
  const appendDir = join(dir, "append");
  for (const sub of [dropDir, appendDir, join(dir, "connectors"), join(dir, "mappings")]) await mkdir(sub);
  const maxWait = options.maxWait ?? "100ms";
  const maxRecords = options.maxRecords ?? 40;
  const connectors: Record<string, string[]> = {
    drop_batches: [
      "name: drop_batches",
      "adapter: file",
      "file:",
      `  dir: ${dropDir}`,
      '  file: "batch_{batch}.txt"',
      "  mode: file-per-batch",
      "  tempSuffix: .part",
      "encoding: utf-8",
      `batch: { maxRecords: ${maxRecords}, maxWait: ${maxWait} }`,
      "retry: { maxAttempts: 1000, initialDelay: 100ms, maxDelay: 1s }",
      "heartbeat: { every: 1s, offlineAfter: 1000 }",
    ],
    drop_append: [
      "name: drop_append",
      "adapter: file",
      "file:",
      `  dir: ${appendDir}`,
      '  file: "permits.txt"',
      "  mode: append",
      "encoding: utf-8",
      `batch: { maxRecords: ${maxRecords}, maxWait: ${maxWait} }`,
      "retry: { maxAttempts: 1000, initialDelay: 100ms, maxDelay: 1s }",
      "heartbeat: { every: 1s, offlineAfter: 1000 }",
    ],
  };
  if (options.ftp) {
    connectors.ftp_append = [
      "name: ftp_append",
      "adapter: ftp",
      "ftp:",
      `  host: ${options.ftp.host}`,
      `  port: ${options.ftp.port}`,
      `  username: ${options.ftp.username}`,
      `  password: ${options.ftp.password}`,
      `  caFile: ${options.ftp.caFile}`,
      `  dir: ${options.ftp.dir}`,
      `  file: "${options.ftp.file ?? "permits.txt"}"`,
      "  mode: append",
      ...(options.ftp.rotate ? [`  rotate: ${options.ftp.rotate}`] : []),
      "encoding: utf-8",
      `batch: { maxRecords: ${maxRecords}, maxWait: ${maxWait} }`,
      "retry: { maxAttempts: 1000, initialDelay: 100ms, maxDelay: 1s }",
      "heartbeat: { every: 1s, offlineAfter: 1000 }",
    ];
  }
  if (options.restUrl) {
    connectors.rest_partner = [
      "name: rest_partner",
      "adapter: rest",
      "rest:",
      `  url: ${options.restUrl}/permits`,
      "  method: POST",
      `  health: ${options.restUrl}/health`,
      "  timeout: 2s",
      "batch: { maxRecords: 40, maxWait: 50ms }",
      "retry: { maxAttempts: 1000, initialDelay: 100ms, maxDelay: 1s }",
      "heartbeat: { every: 500ms, offlineAfter: 1000 }",
    ];
  }
  if (options.soap) {
    connectors.soap_partner = [
      "name: soap_partner",
      "adapter: soap",
      "soap:",
      `  wsdl: ${options.soap.wsdl}`,
      `  endpoint: ${options.soap.url}`,
      "  operation: Reschedule",
      "  timeout: 2s",
      "batch: { maxRecords: 20, maxWait: 50ms }",
      "retry: { maxAttempts: 1000, initialDelay: 100ms, maxDelay: 1s }",
      "heartbeat: { every: 500ms, offlineAfter: 1000 }",
    ];
  }
  if (options.sftp) {
    const { server, keyFile } = options.sftp;
    connectors.sftp_batches = [
      "name: sftp_batches",
      "adapter: sftp",
      "sftp:",
      `  host: ${server.host}`,
      `  port: ${server.port}`,
      `  username: ${server.username}`,
      `  privateKey: \${file:${keyFile}}`,
      `  hostKey: "${server.hostKey}"`,
      `  dir: ${server.dropDir}`,
      '  file: "batch_{batch}.txt"',
      "  mode: file-per-batch",
      "  tempSuffix: .part",
      "encoding: utf-8",
      `batch: { maxRecords: ${maxRecords}, maxWait: ${maxWait} }`,
      "retry: { maxAttempts: 1000, initialDelay: 100ms, maxDelay: 1s }",
      "heartbeat: { every: 1s, offlineAfter: 1000 }",
    ];
  }
  const fixedWidth = ["      ID: id | width:8", "      SEQ: seq | width:10", "      TOKEN: _token | width:45"];
  const targets = [
    ...["drop_batches", "drop_append", ...(options.ftp ? ["ftp_append"] : [])].flatMap((c) => [
      `  - connector: ${c}`,
      "    format: fixed-width",
      "    fields:",
      ...fixedWidth,
    ]),
    ...(options.restUrl ? ["  - connector: rest_partner", "    format: json", "    fields: { id: id, seq: seq }"] : []),
    // The scheduler's WSDL has no field for a sequence number: the optional `reason` carries it.
    ...(options.soap
      ? [
          "  - connector: soap_partner",
          "    format: soap",
          '    fields: { family: id, new_date: "const:2024-05-04", reason: seq }',
        ]
      : []),
    ...(options.sftp ? ["  - connector: sftp_batches", "    format: fixed-width", "    fields:", ...fixedWidth] : []),
  ];
  const ledgerLines = ["ledger:", "  schema: ess", ...(ledgerDb !== sourceDb ? [`  url: ${ledgerUrl}`] : [])];
  await writeFile(
    join(dir, "ess.yaml"),
    [
      "database:",
      `  url: ${sourceUrl}`,
      ...ledgerLines,
      "replication:",
      `  slot: ${slot}`,
      "  publication: ess_pub",
      `  plugin: ${plugin}`,
      "  heartbeat: 1s",
      "connectors: ./connectors",
      "mappings: ./mappings",
      "http:",
      "  listen: 127.0.0.1:0",
      "",
    ].join("\n"),
  );
  for (const [name, lines] of Object.entries(connectors)) {
    await writeFile(join(dir, "connectors", `${name}.yaml`), `${lines.join("\n")}\n`);
  }
  await writeFile(
    join(dir, "mappings", "permit_feed.yaml"),
    [
      "name: permit_feed",
      "source:",
      "  table: public.permits",
      "  ops: [insert, update]",
      "targets:",
      ...targets,
      "",
    ].join("\n"),
  );
  return {
    sourceUrl,
    ledgerUrl,
    slot,
    dir,
    configPath: join(dir, "ess.yaml"),
    dropDir,
    appendDir,
    cleanup: async () => {
      await dropDatabase(options.urlFor("postgres"), sourceDb);
      if (ledgerDb !== sourceDb) await dropDatabase(ledgerUrlFor("postgres"), ledgerDb);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function recreateDatabase(adminUrl: string, name: string): Promise<void> {
  await dropDatabase(adminUrl, name);
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
}

async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(
      "select pg_terminate_backend(active_pid) from pg_replication_slots where database = $1 and active_pid is not null",
      [name],
    );
    await admin.query("select pg_drop_replication_slot(slot_name) from pg_replication_slots where database = $1", [
      name,
    ]);
    await admin.query(`drop database if exists ${name} with (force)`);
  } finally {
    await admin.end();
  }
}
