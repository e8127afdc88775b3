// essctl backfill: sends the current rows of a mapped table, consistent with the stream (no gap, no duplicate token).

import { runBackfill } from "../capture/backfill.js";
import { BackfillMappingError } from "../capture/backfill-errors.js";
import { loadConfig, parseDuration } from "../config/index.js";
import { type EssctlCommand, EXIT, UsageError } from "./cli-options.js";

export const backfillCommand: EssctlCommand = {
  usage: "backfill <mapping>",
  description: "send the current rows of a mapped table (consistent with the stream: no gap, no duplicate token)",
  json: true,
  configure(command) {
    command
      .option("--batch-size <n>", "rows read and queued per ledger transaction", "1000")
      .option("--wait <duration>", "how long to wait for capture (essctl start) to reach the snapshot", "5m");
  },
  async run(context, args, options) {
    const mapping = args[0] ?? "";
    const batchSize = Number(options.batchSize);
    if (!Number.isInteger(batchSize) || batchSize <= 0 || batchSize > 100_000) {
      throw new UsageError(`--batch-size takes a whole number from 1 to 100000, got ${String(options.batchSize)}`);
    }
    const waitMs = parseDuration(String(options.wait));
    if (waitMs === undefined)
      throw new UsageError(`--wait takes a duration like 30s or 5m, got ${String(options.wait)}`);
    const config = await loadConfig(context.configPath, { env: context.env });
    const say = (text: string) => {
      if (!context.json) context.output.print(text);
    };
    try {
      const report = await runBackfill(config, mapping, {
        batchSize,
        catchUpTimeoutMs: waitMs,
        signal: context.signal,
        onSnapshot: (s) => say(`${mapping}: snapshot at ${s.lsn} (${s.time.toISOString()})`),
        onWaiting: (slot) =>
          say(
            `${mapping}: waiting for capture to store the changes before the snapshot ` +
              `(slot at ${slot.confirmed ?? "nothing"}${slot.active ? "" : ", not being read: is essctl start running?"})`,
          ),
        onProgress: (p) => say(`${mapping}: ${p.rows} rows read, ${p.queued} queued, ${p.skipped} skipped`),
      });
      if (context.json) {
        context.output.printJson(report);
      } else {
        say(
          `backfill ${report.mapping} (${report.table}): ${report.rows} rows read, ${report.matched} taken by the mapping, ` +
            `${report.queued} deliveries queued, ${report.dead} dead, ${report.skipped} skipped (already delivered)`,
        );
      }
      return EXIT.ok;
    } catch (error) {
      if (error instanceof BackfillMappingError) throw new UsageError(error.message, "mapping");
      throw error;
    }
  },
};
