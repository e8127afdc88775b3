// essctl upgrade-plan: checks that ESS has drained (lag 0, nothing pending) and prints the major upgrade steps for this server.

import { readSlotStatus } from "../inspection/slot-status.js";
import { connectorCounts } from "../ledger/delivery-queries.js";
import { CAUGHT_UP_BYTES } from "../ops/replication-lag.js";
import { upgradePlan } from "../source/upgrade-plan.js";
import { type EssctlCommand, EXIT, UsageError } from "./cli-options.js";
import { withLedger, withSource } from "./ledger-access.js";

export const upgradePlanCommand: EssctlCommand = {
  usage: "upgrade-plan",
  description:
    "check that ESS has drained (lag 0, nothing pending) and print the steps of a major PostgreSQL upgrade of the source",
  json: true,
  configure(command) {
    command.option("--to <major>", "the major version to upgrade to (default: the next one)");
  },
  async run(context, _args, options) {
    const plan = await withLedger(context, async ({ config, ledger, schema }) => {
      const { slot, version } = await withSource(config, async (source) => ({
        slot: await readSlotStatus(source, config.replication.slot),
        version: Number(
          (await source.query<{ v: string }>("select current_setting('server_version_num') as v")).rows[0]?.v ?? 0,
        ),
      }));
      const fromMajor = Math.floor(version / 10_000);
      const toMajor = options.to === undefined ? fromMajor + 1 : Number(options.to);
      if (!Number.isInteger(toMajor) || toMajor <= fromMajor) {
        throw new UsageError(`--to takes a major version above ${fromMajor}, got ${String(options.to)}`, "to");
      }
      const counts = await connectorCounts(ledger, schema);
      const undelivered = counts.reduce((sum, c) => sum + c.pending + c.sending + c.retrying, 0);
      return upgradePlan(
        {
          fromMajor,
          toMajor,
          slot: config.replication.slot,
          mappings: config.mappings.map((m) => m.name),
          caughtUpBytes: CAUGHT_UP_BYTES,
        },
        { lagBytes: slot.lagBytes, undelivered, slotExists: slot.exists },
      );
    });
    if (context.json) {
      context.output.printJson(plan);
    } else {
      context.output.print(
        plan.drained
          ? `drained: nothing behind the slot, nothing waiting for delivery. Upgrade from PostgreSQL ${plan.fromMajor} to ${plan.toMajor}:`
          : `NOT DRAINED: ${plan.waitingFor.join("; ")}. Once drained, upgrade from PostgreSQL ${plan.fromMajor} to ${plan.toMajor}:`,
      );
      plan.steps.forEach((step, i) => {
        context.output.print(`  ${i + 1}. ${step}`);
      });
    }
    // A script can wait on it: exit 1 until drained.
    return plan.drained ? EXIT.ok : EXIT.failure;
  },
};
