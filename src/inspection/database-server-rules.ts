// Rules for the server and the objects ESS shares with it: wal_level, the publication, the role, the slot and the ledger.

import type { Op } from "../change/change.js";
import type { EssConfig } from "../config/types.js";
import type { LedgerStatus } from "../ledger/ledger-status.js";
import type { TableDemand } from "./database-demands.js";
import { type SourceInspection, tableKey } from "./database-inspection.js";
import { type DatabaseProblem, problem } from "./database-problem.js";
import {
  addPublicationTables,
  createPublication,
  dropSlot,
  grantLedgerAccess,
  grantReplication,
  setLogicalWalLevel,
  setPublicationOps,
  tableLabel,
} from "./database-sql.js";
import { isPublishable, mappedTables, roleLabel } from "./database-table-rules.js";
import { invalidatedSlotRecovery, invalidationSentence } from "./slot-invalidation.js";

export function walLevelProblems(inspection: SourceInspection): DatabaseProblem[] {
  if (inspection.walLevel === "logical") return [];
  return [
    problem(
      "wal-level",
      `wal_level is ${inspection.walLevel} on the server of database ${inspection.database}: logical replication needs wal_level = logical`,
      { sql: [setLogicalWalLevel()] },
    ),
  ];
}

export function roleProblems(inspection: SourceInspection): DatabaseProblem[] {
  const role = inspection.role;
  if (role.superuser || role.replication) return [];
  return [
    problem(
      "privilege",
      `role ${roleLabel(role)} has no REPLICATION attribute: it cannot create or read the replication slot`,
      { sql: [grantReplication({ name: role.name })] },
    ),
  ];
}

const OP_ORDER: readonly Op[] = ["insert", "update", "delete", "truncate"];

/** pgoutput sends the changes of the tables the publication lists; wal2json reads no publication. */
export function publicationProblems(
  inspection: SourceInspection,
  demands: readonly TableDemand[],
  publication: string,
): DatabaseProblem[] {
  // A table that is missing, or is a view, cannot be added: its own problem says what to do first.
  const tables = mappedTables(demands).filter((t) => {
    const found = inspection.tables.get(tableKey(t));
    return found !== undefined && isPublishable(found);
  });
  const current = inspection.publication;
  if (current === null) {
    return [
      problem("publication", `publication ${publication} does not exist in database ${inspection.database}`, {
        sql: [createPublication(publication, tables)],
      }),
    ];
  }
  const problems: DatabaseProblem[] = [];
  const missing = current.allTables ? [] : tables.filter((t) => !current.tables.has(tableKey(t)));
  if (missing.length > 0) {
    const names = missing.map(tableLabel).join(", ");
    problems.push(
      problem("publication", `publication ${publication} does not publish ${names}`, {
        sql: [addPublicationTables(publication, missing)],
      }),
    );
  }
  const wanted = new Set(demands.flatMap((d) => d.ops));
  const unpublished = OP_ORDER.filter((op) => wanted.has(op) && !current.publishes[op]);
  if (unpublished.length > 0) {
    const takers = [
      ...new Set(demands.filter((d) => d.ops.some((op) => unpublished.includes(op))).map((d) => d.mapping)),
    ];
    const ops = OP_ORDER.filter((op) => current.publishes[op] || wanted.has(op));
    problems.push(
      problem(
        "publication",
        `publication ${publication} does not publish ${unpublished.map((op) => `${op}s`).join(", ")}, ` +
          (takers.length === 1 ? `which mapping ${takers.join("")} takes` : `which mappings ${takers.join(", ")} take`),
        { sql: [setPublicationOps(publication, ops)] },
      ),
    );
  }
  return problems;
}

export interface SlotOutcome {
  readonly problems: DatabaseProblem[];
  readonly info: string[];
}

export function slotRules(
  inspection: SourceInspection,
  replication: EssConfig["replication"],
  mappings: readonly string[] = [],
): SlotOutcome {
  const slot = inspection.slot;
  const name = replication.slot;
  if (slot === null)
    return { problems: [], info: [`replication slot ${name} does not exist yet: essctl start creates it`] };
  const elsewhere = "slot names are global to the server: choose another replication.slot in ess.yaml";
  if (slot.type === "physical") {
    return {
      problems: [problem("slot", `replication slot ${name} is a physical slot (a standby's)`, { change: elsewhere })],
      info: [],
    };
  }
  if (slot.database !== inspection.database) {
    return {
      problems: [
        problem("slot", `replication slot ${name} already exists in database ${slot.database ?? "(none)"}`, {
          change: elsewhere,
        }),
      ],
      info: [],
    };
  }
  if (slot.plugin !== replication.plugin) {
    const usable = slot.plugin === "pgoutput" || slot.plugin === "wal2json";
    return {
      problems: [
        problem(
          "slot",
          `replication slot ${name} uses the ${slot.plugin ?? "(unknown)"} plugin, the configuration says ${replication.plugin}`,
          {
            sql: [dropSlot(name)],
            ...(usable ? { change: `set replication.plugin: ${slot.plugin} in ess.yaml` } : {}),
          },
        ),
      ],
      info: [],
    };
  }
  if (slot.invalidation) {
    const [drop, ...then] = invalidatedSlotRecovery(name, mappings);
    return {
      problems: [
        problem("slot", invalidationSentence(name, slot.invalidation), {
          sql: [`select pg_drop_replication_slot('${name}');`],
          change: `after ${drop?.split(";")[0] ?? "dropping it"}: ${then.join("; then ")}`,
        }),
      ],
      info: [],
    };
  }
  return { problems: [], info: [] };
}

export function ledgerProblems(status: LedgerStatus): DatabaseProblem[] {
  const where = `database ${status.database}`;
  const problems: DatabaseProblem[] = [];
  if (status.inaccessible.length > 0 && !status.superuser) {
    problems.push(
      problem(
        "ledger",
        `role ${roleLabel({ name: status.role })} cannot read and write the ledger tables in schema ${status.schema} of ${where}` +
          ` (${status.inaccessible.join(", ")})`,
        { sql: grantLedgerAccess(status.schema, { name: status.role }) },
      ),
    );
  }
  if (status.pending.length > 0) {
    const list = status.pending.map((f) => `${String(f.version).padStart(6, "0")} ${f.name}`).join(", ");
    problems.push(
      problem(
        "ledger",
        `ledger schema ${status.schema} in ${where} is not migrated: ${status.pending.length} migration${status.pending.length === 1 ? "" : "s"} pending (${list})`,
        { change: "essctl migrate  (or essctl migrate --sql, for a DBA to review and run)" },
      ),
    );
  }
  return problems;
}
