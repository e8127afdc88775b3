// essctl replay: re-queues deliveries (by id, by connector and time range, or all dead ones) with the same tokens.
import { type ReplaySelection, replayDeliveries } from "../ledger/delivery-replay.js";
import { type EssctlCommand, EXIT, UsageError } from "./cli-options.js";
import { withLedger } from "./ledger-access.js";

export const replayCommand: EssctlCommand = {
  usage: "replay",
  description:
    "re-queue deliveries: --id N | --connector C [--since T] [--until T] | --connector C --last N | --dead; tokens stay the same",
  json: true,
  configure(command) {
    command
      .option("--id <id>", "one delivery")
      .option(
        "--connector <name>",
        "every delivery of this connector (narrow with --since/--until), or with --dead its dead ones",
      )
      .option("--since <time>", "commit time from (ISO 8601)")
      .option("--until <time>", "commit time before (ISO 8601)")
      .option("--last <n>", "with --connector: its last N deliveries (the replay buffer)")
      .option("--dead", "every dead delivery");
  },
  async run(context, _args, options) {
    const selection = replaySelection(options);
    const result = await withLedger(context, ({ ledger, schema }) => replayDeliveries(ledger, schema, selection));
    if (context.json) context.output.printJson(result);
    else
      context.output.print(
        `${result.replayed} deliveries re-queued${result.replayed ? `: ${result.ids.join(", ")}` : ""}`,
      );
    return EXIT.ok;
  },
};

function replaySelection(options: Readonly<Record<string, unknown>>): ReplaySelection {
  const id = options.id as string | undefined;
  const connector = options.connector as string | undefined;
  const dead = options.dead === true;
  const chosen = [id !== undefined, dead, connector !== undefined && !dead].filter(Boolean).length;
  if (chosen !== 1)
    throw new UsageError(
      "choose exactly one of --id N, --connector C [--since T] [--until T], --connector C --last N, or --dead",
    );
  if (options.last !== undefined && (connector === undefined || dead))
    throw new UsageError("--last N needs --connector C", "last");
  if (id !== undefined) {
    if (!/^\d+$/.test(id)) throw new UsageError(`--id takes a delivery id (a whole number), got ${id}`, "id");
    return { kind: "id", id };
  }
  if (dead) return { kind: "dead", ...(connector ? { connector } : {}) };
  if (options.last !== undefined) {
    const last = String(options.last);
    if (!/^\d+$/.test(last) || Number(last) < 1 || Number(last) > 1_000_000) {
      throw new UsageError(`--last takes a count from 1 to 1000000, got ${last}`, "last");
    }
    if (options.since !== undefined || options.until !== undefined) {
      throw new UsageError("--last does not combine with --since/--until", "last");
    }
    return { kind: "last", connector: connector as string, count: Number(last) };
  }
  const since = parseTime(options.since, "since");
  const until = parseTime(options.until, "until");
  return {
    kind: "connector",
    connector: connector as string,
    ...(since ? { since } : {}),
    ...(until ? { until } : {}),
  };
}

function parseTime(value: unknown, option: string): Date | undefined {
  if (value === undefined) return undefined;
  const date = new Date(String(value));
  if (Number.isNaN(date.getTime()))
    throw new UsageError(`--${option} takes an ISO 8601 time, got ${String(value)}`, option);
  return date;
}
