// essctl check: validates the configuration files (and, through further phases, the database they describe).
import { type CheckPhase, formatCheckReport, runChecks } from "./check-report.js";
import { type EssctlCommand, EXIT } from "./cli-options.js";

/** Phases after the configuration files, in order (the database checks join here). */
const PHASES: readonly CheckPhase[] = [];

export const checkCommand: EssctlCommand = {
  usage: "check",
  description: "validate ess.yaml, connectors/ and mappings/; every problem names its file, line and field",
  json: true,
  async run(context) {
    const report = await runChecks(context.configPath, { env: context.env, phases: PHASES, signal: context.signal });
    if (context.json) context.output.printJson(report);
    else if (report.ok) context.output.print(formatCheckReport(report));
    else context.output.warn(formatCheckReport(report));
    return report.ok ? EXIT.ok : EXIT.invalid;
  },
};
