// essctl migrate: creates or upgrades the ledger schema (safe to run repeatedly and concurrently).
import { loadConfig } from "../config/index.js";
import { migrate, pendingMigrationSql } from "../ledger/migrate.js";
import { type EssctlCommand, EXIT } from "./cli-options.js";

export const migrateCommand: EssctlCommand = {
  usage: "migrate",
  description: "create or upgrade the ledger schema; safe to run repeatedly and concurrently",
  json: true,
  configure(command) {
    command.option("--sql", "print the SQL that would be applied, for a DBA to review and run, instead of running it");
  },
  async run(context, _args, options) {
    const config = await loadConfig(context.configPath, { env: context.env });
    const target = { connectionString: config.ledger.url ?? config.database.url, schema: config.ledger.schema };
    if (options.sql === true) {
      context.output.print(await pendingMigrationSql(target));
      return EXIT.ok;
    }
    const report = await migrate(target);
    if (context.json) {
      context.output.printJson(report);
    } else {
      for (const r of report.results) {
        context.output.print(`${String(r.version).padStart(6, "0")} ${r.name}: ${r.status}`);
      }
      const applied = report.results.filter((r) => r.status === "applied").length;
      context.output.print(
        `ledger schema ${report.schema}: ${applied} applied, ${report.results.length - applied} already applied`,
      );
    }
    return EXIT.ok;
  },
};
