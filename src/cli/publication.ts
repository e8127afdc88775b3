// essctl publication sql: prints the CREATE/ALTER PUBLICATION, REPLICA IDENTITY and GRANT statements for the mapped tables.
import { loadConfig } from "../config/index.js";
import { publicationScript } from "../inspection/publication-sql.js";
import { type EssctlCommand, EXIT, UsageError } from "./cli-options.js";

export const publicationCommand: EssctlCommand = {
  usage: "publication <action>",
  description:
    "publication sql: print CREATE/ALTER PUBLICATION, REPLICA IDENTITY and GRANT statements for the mapped tables " +
    "(what the database lacks; everything for a new database when it cannot be reached or with --offline)",
  json: true,
  configure(command) {
    command.option("--offline", "do not connect: print the statements for a database not set up yet");
  },
  async run(context, args, options) {
    if (args[0] !== "sql") {
      throw new UsageError(`unknown publication action ${JSON.stringify(args[0] ?? "")} (expected: sql)`, "<action>");
    }
    const config = await loadConfig(context.configPath, { env: context.env });
    const script = await publicationScript(config, { offline: options.offline === true });
    if (script.unreachable) {
      context.output.warn(`essctl: ${script.unreachable}; printing the statements for a new database`);
    }
    if (context.json) {
      context.output.printJson(script);
      return EXIT.ok;
    }
    // Notes as SQL comments: the output stays a script a DBA can pipe into psql.
    const lines = [...script.notes.map((note) => `-- ${note}`), ...script.statements];
    context.output.print(lines.join("\n"));
    return EXIT.ok;
  },
};
