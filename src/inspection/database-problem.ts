// One thing the source database or ledger lacks for the configuration, with the statements or change that fix it.
import { displayFileName, formatFieldPath } from "../config/index.js";
import type { ProblemLocation } from "./database-demands.js";

/** Which part of the set-up a problem is about; `essctl publication sql` prints the fixes of some of them. */
export type ProblemTopic =
  | "wal-level"
  | "publication"
  | "table"
  | "column"
  | "replica-identity"
  | "privilege"
  | "slot"
  | "failover"
  | "ledger"
  | "mapping";

export interface DatabaseProblem {
  readonly topic: ProblemTopic;
  /** The whole message, prefixed with the file, line and field when it comes from a mapping. */
  readonly message: string;
  /** What fixes it, as an operator does it: the SQL, a command, or a change to a file. */
  readonly fix: string;
  /** The statements of the fix, when it is SQL a DBA runs. */
  readonly sql: readonly string[];
  readonly location?: ProblemLocation;
}

export function problem(
  topic: ProblemTopic,
  message: string,
  fix: { readonly sql?: readonly string[]; readonly change?: string },
  location?: ProblemLocation,
): DatabaseProblem {
  const sql = fix.sql ?? [];
  const text = [sql.join("\n"), fix.change].filter((part) => part !== undefined && part !== "").join("\nor: ");
  return {
    topic,
    message: location ? `${where(location)}: ${message}` : message,
    fix: text,
    sql,
    ...(location ? { location } : {}),
  };
}

/** `mappings/permits.yaml:9:7: targets[0].fields.STATUS`, or without line when only the field path is known. */
export function where(location: ProblemLocation): string {
  const file = displayFileName(location.file);
  const at = location.line === undefined ? file : `${file}:${location.line}:${location.column ?? 1}`;
  const path = formatFieldPath(location.path);
  return path === "" ? at : `${at}: ${path}`;
}
