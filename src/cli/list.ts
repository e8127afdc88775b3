// essctl list: deliveries with their state, attempts, next try, token and last error.
import { DELIVERY_STATES, type DeliveryState, listDeliveries } from "../ledger/delivery-queries.js";
import { type EssctlCommand, EXIT, UsageError } from "./cli-options.js";
import { knownConnector } from "./known-connector.js";
import { withLedger } from "./ledger-access.js";
import { shortTime, textTable } from "./text-table.js";

export const listCommand: EssctlCommand = {
  usage: "list",
  description: "deliveries with state, attempts, next try, token and last error (newest first)",
  json: true,
  configure(command) {
    command
      .option("--connector <name>", "only this connector")
      .option("--state <state>", `only this state: ${DELIVERY_STATES.join(", ")}`)
      .option("--limit <n>", "at most this many", "50");
  },
  async run(context, _args, options) {
    const limit = Number(options.limit);
    if (!Number.isInteger(limit) || limit <= 0)
      throw new UsageError(`--limit takes a positive whole number, got ${String(options.limit)}`, "limit");
    const state = options.state as string | undefined;
    if (state !== undefined && !(DELIVERY_STATES as readonly string[]).includes(state)) {
      throw new UsageError(`--state must be one of ${DELIVERY_STATES.join(", ")}, got ${state}`, "state");
    }
    const rows = await withLedger(context, ({ ledger, schema, config }) => {
      if (typeof options.connector === "string") knownConnector(config, options.connector);
      return listDeliveries(ledger, schema, {
        limit,
        ...(typeof options.connector === "string" ? { connector: options.connector } : {}),
        ...(state ? { state: state as DeliveryState } : {}),
      });
    });
    if (context.json) {
      context.output.printJson({ deliveries: rows });
      return EXIT.ok;
    }
    context.output.print(
      textTable(
        ["ID", "CONNECTOR", "STATE", "ATTEMPTS", "NEXT TRY", "KEY", "TOKEN", "LAST ERROR"],
        rows.map((r) => [
          r.id,
          r.connector,
          // A held delivery says why it waits: "pending (held: attention: … answered HTTP 401 …)".
          r.heldBy ? `${r.state} (held: ${r.heldBy.slice(0, 100)})` : r.state,
          String(r.attempts),
          shortTime(r.nextAttemptAt),
          r.key,
          r.token,
          (r.lastError ?? "").slice(0, 80),
        ]),
      ),
    );
    return EXIT.ok;
  },
};
