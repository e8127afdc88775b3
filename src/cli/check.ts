// essctl check: validates the configuration files, then the source database and ledger they describe.
import { type EssConfig, formatFieldPath } from "../config/index.js";
import { checkDatabase } from "../inspection/database-checks.js";
import { type CheckPhase, formatCheckReport, runChecks } from "./check-report.js";
import { wsdlPhase } from "./check-wsdl.js";
import { type EssctlCommand, EXIT } from "./cli-options.js";

const DATABASE_PHASE: CheckPhase = {
  name: "database",
  async run(config: EssConfig) {
    const result = await checkDatabase(config);
    return {
      problems: result.problems.map((p) => ({
        phase: "database",
        message: p.message,
        ...(p.location
          ? {
              file: p.location.file,
              path: formatFieldPath(p.location.path),
              ...(p.location.line !== undefined ? { line: p.location.line, column: p.location.column ?? 1 } : {}),
            }
          : {}),
        fix: p.fix,
        ...(p.sql.length > 0 ? { sql: p.sql } : {}),
      })),
      info: result.info,
      sql: result.sql,
    };
  },
};

/** Phases after the configuration files, in order; --offline reads local files only. */
function phases(offline: boolean): readonly CheckPhase[] {
  return offline ? [wsdlPhase({ offline })] : [DATABASE_PHASE, wsdlPhase({ offline })];
}

export const checkCommand: EssctlCommand = {
  usage: "check",
  description:
    "validate ess.yaml, connectors/ and mappings/ (every problem names its file, line and field), then the database: " +
    "wal_level, publication, tables, columns, replica identity, privileges, slot and ledger; prints the SQL a DBA must run",
  json: true,
  configure(command) {
    command.option("--offline", "check the configuration files only, without connecting to the database");
    command.option("--explain", "print every recipe alias met and each file that used one in canonical form");
  },
  async run(context, _args, options) {
    const report = await runChecks(context.configPath, {
      env: context.env,
      phases: phases(options.offline === true),
      signal: context.signal,
      explain: options.explain === true,
    });
    if (context.json) context.output.printJson(report);
    else if (report.ok) context.output.print(formatCheckReport(report));
    else context.output.warn(formatCheckReport(report));
    return report.ok ? EXIT.ok : EXIT.invalid;
  },
};
