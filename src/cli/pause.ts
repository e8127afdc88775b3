// essctl pause C / essctl resume C: hold or release one connector's deliveries.
import { clearAttention, setPaused } from "../ledger/connector-state.js";
import { type EssctlCommand, EXIT, UsageError } from "./cli-options.js";
import { withLedger } from "./ledger-access.js";

function holdCommand(paused: boolean): EssctlCommand {
  const verb = paused ? "pause" : "resume";
  return {
    usage: `${verb} <connector>`,
    description: paused
      ? "hold one connector's deliveries (nothing is lost; attempts are not spent)"
      : "release a paused connector",
    json: true,
    async run(context, args) {
      const connector = args[0] as string;
      const changed = await withLedger(context, async ({ config, ledger, schema }) => {
        if (!config.connectors.some((c) => c.name === connector)) {
          throw new UsageError(
            `no connector named ${connector} (known: ${config.connectors.map((c) => c.name).join(", ")})`,
          );
        }
        const changed = await setPaused(ledger, schema, connector, paused);
        // Resuming is also how an operator says "I fixed what needed attention" (a host key, a file).
        const released = paused ? [] : await clearAttention(ledger, schema, [connector]);
        return changed || released.length > 0;
      });
      if (context.json) context.output.printJson({ connector, paused, changed });
      else context.output.print(`${connector}: ${paused ? "paused" : "resumed"}${changed ? "" : " (it already was)"}`);
      return EXIT.ok;
    },
  };
}

export const pauseCommand = holdCommand(true);
export const resumeCommand = holdCommand(false);
