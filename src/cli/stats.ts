// essctl stats: per connector counts, last success and heartbeat state; replication lag and retained WAL.

import { readCaptureLeader } from "../capture/capture-leadership.js";
import { invalidatedSlotRecovery, invalidationSentence } from "../inspection/slot-invalidation.js";
import { readSlotStatus } from "../inspection/slot-status.js";
import { connectorCounts } from "../ledger/delivery-queries.js";
import { lastCapturedCommit } from "../ledger/readings.js";
import { probeRunningEngine } from "../ops/engine-probe.js";
import { replicationLagSeconds } from "../ops/replication-lag.js";
import { type EssctlCommand, EXIT } from "./cli-options.js";
import { withLedger, withSource } from "./ledger-access.js";
import { shortTime, textTable } from "./text-table.js";

export const statsCommand: EssctlCommand = {
  usage: "stats",
  description: "per connector: pending, retrying, dead, sent, confirmed, last success, heartbeat; replication lag",
  json: true,
  async run(context) {
    const report = await withLedger(context, async ({ config, ledger, schema }) => {
      const connectors = await connectorCounts(ledger, schema);
      const slot = await withSource(config, (source) => readSlotStatus(source, config.replication.slot));
      const lastCommit = await lastCapturedCommit(ledger, schema, config.replication.slot);
      // A command sees the slot once: only the newest stored commit bounds the lag in time.
      const lagSeconds = replicationLagSeconds({
        lagBytes: slot.lagBytes,
        lastCommit,
        lastCaughtUpAt: undefined,
        now: Date.now(),
      });
      // A running engine knows whether the slot stopped advancing (and why); it may not be running.
      const engine = await probeRunningEngine(config.http);
      const leader = await readCaptureLeader(ledger, schema, config.replication.slot);
      return {
        connectors,
        engine: engine.reachable
          ? { running: true, ready: engine.ready, role: engine.role, reasons: engine.reasons }
          : { running: false, role: null, reasons: [engine.error] },
        captureLeader: leader
          ? { owner: leader.owner, pid: leader.pid, since: leader.since?.toISOString() ?? null }
          : null,
        replication: {
          stalled: engine.reachable && engine.stalled,
          stallCauses: engine.reachable ? engine.stallCauses : [],
          slot: slot.slot,
          slotExists: slot.exists,
          active: slot.active,
          lagBytes: slot.lagBytes,
          lagSeconds: Math.round(lagSeconds * 10) / 10,
          retainedWalBytes: slot.retainedWalBytes,
          confirmedFlushLsn: slot.confirmedFlushLsn,
          walStatus: slot.walStatus,
          invalidation: slot.invalidation,
          recovery: slot.invalidation
            ? invalidatedSlotRecovery(
                slot.slot,
                config.mappings.map((m) => m.name),
              )
            : [],
        },
      };
    });
    if (context.json) {
      context.output.printJson(report);
      return EXIT.ok;
    }
    context.output.print(
      textTable(
        ["CONNECTOR", "PENDING", "SENDING", "RETRYING", "DEAD", "SENT", "CONFIRMED", "LAST SUCCESS", "STATE"],
        report.connectors.map((c) => [
          c.connector,
          String(c.pending),
          String(c.sending),
          String(c.retrying),
          String(c.dead),
          String(c.sent),
          String(c.confirmed),
          shortTime(c.lastSuccessAt),
          c.attention ? `attention: ${c.attention}` : c.paused ? "paused" : c.online ? "online" : "offline",
        ]),
      ),
    );
    const r = report.replication;
    context.output.print(
      `\nreplication slot ${r.slot}: ${r.slotExists ? (r.active ? "active" : "inactive") : "not created yet"}, ` +
        `lag ${r.lagBytes} bytes / ${r.lagSeconds} s, retained WAL ${r.retainedWalBytes} bytes`,
    );
    context.output.print(
      `capture leader: ${report.captureLeader ? `${report.captureLeader.owner} (ledger session ${report.captureLeader.pid})` : "none (no essctl start captures this slot)"}` +
        (report.engine.running ? `; the essctl start on http.listen is the ${report.engine.role}` : ""),
    );
    if (r.invalidation) {
      const line = `INVALIDATED: ${invalidationSentence(r.slot, r.invalidation)}. Recovery:\n${r.recovery.map((step, i) => `  ${i + 1}. ${step}`).join("\n")}`;
      context.output.print(process.stdout.isTTY ? `\u001b[31m${line}\u001b[0m` : line);
    } else if (r.stalled) {
      const line = `STALLED: the slot has not advanced while the server's WAL grew. Likely causes: ${
        r.stallCauses.join("; ") || "a long transaction, the ledger unreachable, a held connector"
      }`;
      // Red on a terminal, so it is seen at a glance; plain text when piped.
      context.output.print(process.stdout.isTTY ? `\u001b[31m${line}\u001b[0m` : line);
    }
    if (!report.engine.running)
      context.output.print(`essctl start: not reachable (${report.engine.reasons.join("; ")})`);
    return EXIT.ok;
  },
};
