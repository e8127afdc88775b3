// The SQL that publishes the mapped tables and lets ESS read them: worked out against the live database, or for a new one.
import type { EssConfig } from "../config/types.js";
import { fixSql, mappedSourceTables, snapshotSource } from "./database-checks.js";
import { DatabaseUnreachableError, withDatabase } from "./database-connection.js";
import { publicationProblems, roleProblems } from "./database-server-rules.js";
import {
  createPublication,
  grantReplication,
  grantSchemaUsage,
  grantSelect,
  type RoleSpec,
  tableLabel,
} from "./database-sql.js";
import { tableProblems } from "./database-table-rules.js";

export interface PublicationScript {
  /** `database`: only what the live database lacks; `new-database`: everything, for a database not set up yet. */
  readonly basis: "database" | "new-database";
  readonly statements: readonly string[];
  /** What the statements leave out or assume, for the DBA reading them. */
  readonly notes: readonly string[];
  /** Why the live database was not used, when it could not be reached (credentials hidden). */
  readonly unreachable?: string;
}

export interface PublicationScriptOptions {
  /** Do not connect: print the statements for a new database. */
  readonly offline?: boolean;
}

/**
 * Against a reachable database: CREATE PUBLICATION when it is missing, ALTER PUBLICATION … ADD
 * TABLE for the tables it lacks, REPLICA IDENTITY where a table needs one, and the grants the
 * role lacks. Offline or unreachable: CREATE PUBLICATION and every grant, since nothing is known.
 */
export async function publicationScript(
  config: EssConfig,
  options: PublicationScriptOptions = {},
): Promise<PublicationScript> {
  if (options.offline) return withRunner(newDatabaseScript(config));
  try {
    return withRunner(await withDatabase("source", config.database.url, (client) => liveScript(config, client)));
  } catch (error) {
    if (!(error instanceof DatabaseUnreachableError)) throw error;
    return { ...withRunner(newDatabaseScript(config)), unreachable: error.message };
  }
}

/**
 * Who may run the script, as its first note: piped into psql as the ESS role it fails with
 * "must be owner of table", so the output itself says so.
 */
export const RUN_AS_NOTE =
  "Run this as the tables' owner or a superuser (a DBA), not as the role ESS connects as: " +
  "CREATE PUBLICATION needs CREATE on the database and the tables' ownership, REPLICA IDENTITY the table's owner, a GRANT the owner or the grant option, " +
  "and ALTER ROLE ... WITH REPLICATION a superuser";

function withRunner(script: PublicationScript): PublicationScript {
  if (script.statements.length === 0) return script;
  return { ...script, notes: [RUN_AS_NOTE, ...script.notes] };
}

async function liveScript(config: EssConfig, client: Parameters<typeof snapshotSource>[0]): Promise<PublicationScript> {
  const { inspection, demands } = await snapshotSource(client, config);
  const pgoutput = config.replication.plugin === "pgoutput";
  const tables = tableProblems(inspection, demands);
  const problems = [
    ...(pgoutput ? publicationProblems(inspection, demands, config.replication.publication) : []),
    ...tables,
    ...roleProblems(inspection),
  ];
  const statements = fixSql(problems, ["publication", "replica-identity", "privilege"]);
  const notes: string[] = [];
  if (!pgoutput) notes.push(pluginNote(config));
  for (const p of tables.filter((t) => t.topic === "table")) notes.push(`left out: ${p.message}`);
  if (statements.length === 0) {
    notes.push(
      `database ${inspection.database} needs nothing more: ` +
        (pgoutput ? `publication ${config.replication.publication} publishes every mapped table, ` : "") +
        "every table has a replica identity and the role may read them",
    );
  }
  return { basis: "database", statements, notes };
}

function newDatabaseScript(config: EssConfig): PublicationScript {
  const tables = mappedSourceTables(config);
  const role = connectingRole(config.database.url);
  const statements: string[] = [];
  const notes: string[] = [];
  if (config.replication.plugin === "pgoutput")
    statements.push(createPublication(config.replication.publication, tables));
  else notes.push(pluginNote(config));
  if (tables.length > 0) {
    for (const schema of new Set(tables.map((t) => t.schema))) statements.push(grantSchemaUsage(schema, role));
    statements.push(grantSelect(tables, role));
    notes.push(
      `REPLICA IDENTITY depends on each table's primary key: run against the database to see which of ${tables.map(tableLabel).join(", ")} need one`,
    );
  }
  statements.push(grantReplication(role));
  if (role === "CURRENT_USER")
    notes.push("database.url names no user: replace CURRENT_USER with the role ESS connects as");
  return { basis: "new-database", statements, notes };
}

function pluginNote(config: EssConfig): string {
  return `replication.plugin is ${config.replication.plugin}, which reads no publication: none is created`;
}

/** The user of the database URL, as libpq reads it (percent-decoded). */
function connectingRole(url: string): RoleSpec {
  try {
    const user = decodeURIComponent(new URL(url).username);
    return user === "" ? "CURRENT_USER" : { name: user };
  } catch {
    // The configuration loader has validated the URL; an unreadable one names no user.
    return "CURRENT_USER";
  }
}
