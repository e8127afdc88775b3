// The statements a DBA runs to prepare a source database for ESS, with every identifier quoted.

import type { Op, TableRef } from "../change/change.js";
import { identifierLabel, qualifiedTable, quoteIdentifier, quoteLiteral } from "../sql/sql-identifier.js";

/** A table as an operator reads it in a message: public.permits, or "Hms"."Permit Fees" when quoting matters. */
export function tableLabel(table: TableRef): string {
  return `${identifierLabel(table.schema)}.${identifierLabel(table.name)}`;
}

/** A role in GRANT and ALTER ROLE: its quoted name, or CURRENT_USER when the name is not known. */
export type RoleSpec = { readonly name: string } | "CURRENT_USER";

function role(spec: RoleSpec): string {
  return spec === "CURRENT_USER" ? "CURRENT_USER" : quoteIdentifier(spec.name);
}

/** Without tables (only topic mappings, or none of the tables exist yet) the publication starts empty. */
export function createPublication(publication: string, tables: readonly TableRef[]): string {
  const list = tables.length > 0 ? ` FOR TABLE ${tables.map(qualifiedTable).join(", ")}` : "";
  return `CREATE PUBLICATION ${quoteIdentifier(publication)}${list};`;
}

export function addPublicationTables(publication: string, tables: readonly TableRef[]): string {
  return `ALTER PUBLICATION ${quoteIdentifier(publication)} ADD TABLE ${tables.map(qualifiedTable).join(", ")};`;
}

export function setPublicationOps(publication: string, ops: readonly Op[]): string {
  return `ALTER PUBLICATION ${quoteIdentifier(publication)} SET (publish = ${quoteLiteral(ops.join(", "))});`;
}

export type ReplicaIdentity = "DEFAULT" | "FULL";

export function setReplicaIdentity(table: TableRef, identity: ReplicaIdentity): string {
  return `ALTER TABLE ${qualifiedTable(table)} REPLICA IDENTITY ${identity};`;
}

export function grantSchemaUsage(schema: string, grantee: RoleSpec): string {
  return `GRANT USAGE ON SCHEMA ${quoteIdentifier(schema)} TO ${role(grantee)};`;
}

export function grantSelect(tables: readonly TableRef[], grantee: RoleSpec): string {
  return `GRANT SELECT ON TABLE ${tables.map(qualifiedTable).join(", ")} TO ${role(grantee)};`;
}

export function grantReplication(grantee: RoleSpec): string {
  return `ALTER ROLE ${role(grantee)} WITH REPLICATION;`;
}

/** What ESS does in its ledger at run time: reads and writes rows, never DDL (that is `essctl migrate`). */
export function grantLedgerAccess(schema: string, grantee: RoleSpec): string[] {
  const q = quoteIdentifier(schema);
  return [
    `GRANT USAGE ON SCHEMA ${q} TO ${role(grantee)};`,
    `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${q} TO ${role(grantee)};`,
    `GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA ${q} TO ${role(grantee)};`,
  ];
}

export function setLogicalWalLevel(): string {
  return "ALTER SYSTEM SET wal_level = logical;  -- takes effect when PostgreSQL restarts";
}

export function dropSlot(slot: string): string {
  return `SELECT pg_drop_replication_slot(${quoteLiteral(slot)});  -- only once every change it holds has been delivered`;
}
