// Rules for each mapped table: it exists, has the columns the mappings read in types they can carry, a replica identity, and is readable.

import type { TableRef } from "../change/change.js";
import { suggestion } from "../config/suggestion.js";
import type { RecordFormat } from "../config/types.js";
import { identifierLabel } from "../sql/sql-identifier.js";
import type { ColumnUse, TableDemand } from "./database-demands.js";
import type { ColumnInspection, RoleInspection, SourceInspection, TableInspection } from "./database-inspection.js";
import { tableKey } from "./database-inspection.js";
import { type DatabaseProblem, problem } from "./database-problem.js";
import { grantSchemaUsage, grantSelect, type ReplicaIdentity, setReplicaIdentity, tableLabel } from "./database-sql.js";

/** Tables the mappings name, once each, in the order first named. */
export function mappedTables(demands: readonly TableDemand[]): TableRef[] {
  const seen = new Map<string, TableRef>();
  for (const demand of demands) if (!seen.has(tableKey(demand.table))) seen.set(tableKey(demand.table), demand.table);
  return [...seen.values()];
}

/** Only tables (plain or partitioned) can be published for logical replication. */
export function isPublishable(table: TableInspection): boolean {
  return table.kind === "table" || table.kind === "partitioned table";
}

export function tableProblems(inspection: SourceInspection, demands: readonly TableDemand[]): DatabaseProblem[] {
  const problems: DatabaseProblem[] = [];
  for (const demand of demands) {
    const found = inspection.tables.get(tableKey(demand.table));
    const location = { file: demand.file, path: ["source", "table"] };
    if (!found) {
      problems.push(
        problem(
          "table",
          `table ${tableLabel(demand.table)} does not exist in database ${inspection.database}`,
          { change: "create the table, or correct source.table" },
          location,
        ),
      );
      continue;
    }
    if (!isPublishable(found)) {
      problems.push(
        problem(
          "table",
          `${tableLabel(demand.table)} is a ${found.kind}: logical replication carries changes of tables only`,
          { change: `map the table the ${found.kind} reads from instead` },
          location,
        ),
      );
      continue;
    }
    for (const use of demand.uses) {
      const issue = columnProblem(found, use);
      if (issue) problems.push(issue);
    }
  }
  for (const table of mappedTables(demands)) {
    const found = inspection.tables.get(tableKey(table));
    if (!found || !isPublishable(found)) continue;
    const issue = identityProblem(
      found,
      demands.filter((d) => tableKey(d.table) === tableKey(table)),
    );
    if (issue) problems.push(issue);
  }
  problems.push(...readProblems(inspection, demands));
  return problems;
}

/** Text records (fixed-width, CSV) take scalars; JSON and SOAP also carry arrays and bytes, never a row value. */
const CARRIES: Readonly<Record<RecordFormat, readonly ColumnInspection["kind"][]>> = {
  "fixed-width": ["scalar"],
  csv: ["scalar"],
  json: ["scalar", "array", "bytea"],
  soap: ["scalar", "array", "bytea"],
};

const KIND_NOTES: Readonly<Record<ColumnInspection["kind"], string>> = {
  scalar: "",
  bytea: " (raw bytes)",
  array: " (an array)",
  composite: " (a composite type)",
};

function columnProblem(table: TableInspection, use: ColumnUse): DatabaseProblem | undefined {
  const column = table.columns.get(use.column);
  if (!column) {
    return problem(
      "column",
      `column ${use.column} does not exist in table ${tableLabel(table.table)}${suggestion(use.column, [...table.columns.keys()])}`,
      { change: `correct the column name in the mapping, or add the column to ${tableLabel(table.table)}` },
      use.location,
    );
  }
  if (use.format === undefined || CARRIES[use.format].includes(column.kind)) return undefined;
  return problem(
    "column",
    `column ${use.column} of ${tableLabel(table.table)} is ${column.type}${KIND_NOTES[column.kind]}: ` +
      `a ${use.format} field carries text, numbers, dates and times`,
    { change: "map a column of a text, number or date type instead (a generated column can convert this one)" },
    use.location,
  );
}

/**
 * Updates and deletes must carry a key: PostgreSQL refuses them on a published table without a
 * replica identity, and a delete that lacks the mapping's key columns cannot be ordered.
 */
function identityProblem(table: TableInspection, demands: readonly TableDemand[]): DatabaseProblem | undefined {
  const label = tableLabel(table.table);
  // Only a delete's row is the old row (key columns only); updates carry the whole new row.
  const needed = [...new Set(demands.filter((d) => d.ops.includes("delete")).flatMap((d) => d.keyColumns))];
  const covers = (columns: readonly string[]) => needed.every((c) => columns.includes(c));
  // FULL rather than a new primary key: it needs no unique data, at the price of larger WAL records.
  const fix: ReplicaIdentity =
    table.replicaIdentity !== "default" && table.primaryKey.length > 0 && covers(table.primaryKey) ? "DEFAULT" : "FULL";
  const refused = "updates and deletes carry no key, and PostgreSQL refuses them once the table is published";
  let carried: readonly string[] | null;
  let missing: string;
  switch (table.replicaIdentity) {
    case "full":
      return undefined;
    case "nothing":
      carried = null;
      missing = `table ${label} has REPLICA IDENTITY NOTHING: ${refused}`;
      break;
    case "index":
      carried = table.identityIndex;
      missing = `table ${label} has REPLICA IDENTITY USING INDEX, but the index no longer exists: ${refused}`;
      break;
    default:
      carried = table.primaryKey.length > 0 ? table.primaryKey : null;
      missing = `table ${label} has no primary key and REPLICA IDENTITY DEFAULT: ${refused}`;
  }
  if (carried === null) {
    return problem("replica-identity", missing, { sql: [setReplicaIdentity(table.table, fix)] });
  }
  if (covers(carried)) return undefined;
  const lacking = needed.filter((c) => !carried.includes(c));
  const mappings = demands.filter((d) => d.ops.includes("delete")).map((d) => d.mapping);
  return problem(
    "replica-identity",
    `deletes from ${label} carry only ${carried.join(", ")} (its replica identity), not ${lacking.join(", ")} ` +
      `of the key of mapping ${mappings.join(", ")}`,
    { sql: [setReplicaIdentity(table.table, fix)] },
  );
}

function readProblems(inspection: SourceInspection, demands: readonly TableDemand[]): DatabaseProblem[] {
  const role = inspection.role;
  if (role.superuser) return [];
  const problems: DatabaseProblem[] = [];
  const tables = mappedTables(demands).flatMap((t) => {
    const found = inspection.tables.get(tableKey(t));
    return found && isPublishable(found) ? [found] : [];
  });
  const schemas = [...new Set(tables.filter((t) => !t.schemaUsage).map((t) => t.table.schema))];
  for (const schema of schemas) {
    problems.push(
      problem("privilege", `role ${roleLabel(role)} has no USAGE on schema ${schema}`, {
        sql: [grantSchemaUsage(schema, { name: role.name })],
      }),
    );
  }
  for (const table of tables.filter((t) => !t.canSelect)) {
    problems.push(
      problem(
        "privilege",
        `role ${roleLabel(role)} cannot read table ${tableLabel(table.table)} (no SELECT): essctl backfill reads its rows`,
        { sql: [grantSelect([table.table], { name: role.name })] },
      ),
    );
  }
  return problems;
}

export function roleLabel(role: Pick<RoleInspection, "name">): string {
  return identifierLabel(role.name);
}
