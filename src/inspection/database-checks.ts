// Checks a loaded configuration against the live source database and ledger, and says what SQL or change fixes each problem.
import type pg from "pg";
import type { TableRef } from "../change/change.js";
import type { ConnectorConfig, EssConfig } from "../config/types.js";
import { readLedgerStatus } from "../ledger/ledger-status.js";
import { type CompiledMapping, compileMapping, mappingKeyColumns } from "../mapping/index.js";
import { withDatabase } from "./database-connection.js";
import { type TableDemand, tableDemands } from "./database-demands.js";
import { inspectSource, type SourceInspection, tableKey } from "./database-inspection.js";
import { type DatabaseProblem, type ProblemTopic, problem } from "./database-problem.js";
import {
  ledgerProblems,
  publicationProblems,
  roleProblems,
  slotRules,
  walLevelProblems,
} from "./database-server-rules.js";
import { tableProblems } from "./database-table-rules.js";
import { failoverRules } from "./failover-rules.js";

export { DatabaseUnreachableError } from "./database-connection.js";
export type { DatabaseProblem, ProblemTopic } from "./database-problem.js";

export interface DatabaseCheckResult {
  readonly problems: readonly DatabaseProblem[];
  /** Facts worth knowing that need no action (a slot `essctl start` will create). */
  readonly info: readonly string[];
  /** Every statement of every fix, once, in the order a DBA runs them. */
  readonly sql: readonly string[];
}

/** What the source database holds for this configuration, and what the mappings ask of it. */
export interface SourceSnapshot {
  readonly inspection: SourceInspection;
  readonly demands: readonly TableDemand[];
  /** Mappings that do not compile once their key is the table's real primary key. */
  readonly mappingProblems: readonly DatabaseProblem[];
}

/** Throws DatabaseUnreachableError when the source or ledger database cannot be reached. */
export async function checkDatabase(config: EssConfig): Promise<DatabaseCheckResult> {
  return withDatabase("source", config.database.url, async (source) => {
    const snapshot = await snapshotSource(source, config);
    const schema = config.ledger.schema;
    const ledgerUrl = config.ledger.url;
    const ledger =
      ledgerUrl !== undefined && ledgerUrl !== config.database.url
        ? await withDatabase("ledger", ledgerUrl, (client) => readLedgerStatus(client, schema))
        : await readLedgerStatus(source, schema);
    const { inspection, demands } = snapshot;
    const slot = slotRules(
      inspection,
      config.replication,
      config.mappings.map((m) => m.name),
    );
    const failover = config.replication.failover ? await failoverRules(source, config) : { problems: [], info: [] };
    const info = [...slot.info, ...failover.info];
    const publication =
      config.replication.plugin === "pgoutput"
        ? publicationProblems(inspection, demands, config.replication.publication)
        : [];
    if (config.replication.plugin !== "pgoutput") {
      info.push(`replication.plugin is ${config.replication.plugin}: it reads no publication, so none is checked`);
    }
    const problems = [
      ...walLevelProblems(inspection),
      ...snapshot.mappingProblems,
      ...tableProblems(inspection, demands),
      ...publication,
      ...roleProblems(inspection),
      ...ledgerProblems(ledger),
      ...slot.problems,
      ...failover.problems,
    ];
    return { problems, info, sql: fixSql(problems) };
  });
}

/** Reads the catalogs for the mapped tables, then compiles the mappings with each table's primary key. */
export async function snapshotSource(client: pg.ClientBase, config: EssConfig): Promise<SourceSnapshot> {
  const inspection = await inspectSource(client, {
    publication: config.replication.publication,
    slot: config.replication.slot,
    tables: mappedSourceTables(config),
  });
  const connectors = new Map<string, ConnectorConfig>(config.connectors.map((c) => [c.name, c]));
  const compiled: CompiledMapping[] = [];
  const mappingProblems: DatabaseProblem[] = [];
  const failed: TableDemand[] = [];
  for (const mapping of config.mappings) {
    const table = mapping.source.table;
    // As the engine does: without source.key, the ordering key is the table's primary key.
    const primaryKey = table ? inspection.tables.get(tableKey(table))?.primaryKey : undefined;
    const result = compileMapping(mapping, connectors, { keyColumns: primaryKey, hashKey: config.hashKey });
    if (result.mapping) compiled.push(result.mapping);
    for (const error of result.errors)
      mappingProblems.push(problem("mapping", error.message, { change: "correct the mapping" }));
    if (!result.mapping && table) {
      // Its columns are unknown, but its table still belongs in the publication and the grants.
      failed.push({
        mapping: mapping.name,
        file: mapping.location.file,
        table,
        ops: mapping.source.ops,
        keyColumns: mappingKeyColumns(mapping, primaryKey).columns,
        uses: [],
      });
    }
  }
  return { inspection, demands: [...tableDemands(compiled), ...failed], mappingProblems };
}

/** The tables the mappings name, once each. */
export function mappedSourceTables(config: EssConfig): TableRef[] {
  const seen = new Map<string, TableRef>();
  for (const mapping of config.mappings) {
    const table = mapping.source.table;
    if (table) seen.set(tableKey(table), table);
  }
  return [...seen.values()];
}

/** Server settings first, then the publication and tables, then grants: each statement can run after the ones before it. */
const SQL_ORDER: readonly ProblemTopic[] = [
  "wal-level",
  "publication",
  "replica-identity",
  "privilege",
  "ledger",
  "slot",
  "failover",
  "table",
  "column",
  "mapping",
];

export function fixSql(problems: readonly DatabaseProblem[], topics: readonly ProblemTopic[] = SQL_ORDER): string[] {
  const statements: string[] = [];
  for (const topic of topics) {
    for (const p of problems) {
      if (p.topic !== topic) continue;
      for (const statement of p.sql) if (!statements.includes(statement)) statements.push(statement);
    }
  }
  return statements;
}
