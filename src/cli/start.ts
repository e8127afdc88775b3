// essctl start: runs replication, delivery workers, heartbeats and the HTTP endpoints until SIGTERM/SIGINT (graceful).
import { loadConfig, parseDuration } from "../config/index.js";
import { EssEngine } from "../engine.js";
import type { HttpAddress } from "../ops/http-server.js";
import { createLogger } from "../ops/logger.js";
import { type EssctlCommand, EXIT, UsageError } from "./cli-options.js";

export const startCommand: EssctlCommand = {
  usage: "start",
  description:
    "run replication, delivery workers, heartbeats and the HTTP endpoints (/metrics /healthz /readyz /inbound) until SIGTERM/SIGINT",
  configure(command) {
    command
      .option("--lease-timeout <duration>", "how long a batch stays with a process that stopped answering", "60s")
      .option("--no-capture", "deliver only (another process runs replication on this ledger)")
      .option(
        "--accept-source-change",
        "trust a changed source once (another server, a restored backup, a new timeline or slot): start from the slot's own position; then backfill",
      );
  },
  async run(context, _args, options) {
    const leaseMs = parseDurationOption(options.leaseTimeout, "lease-timeout");
    const config = await loadConfig(context.configPath, { env: context.env });
    const logger = createLogger();
    // A fault-injection knob for crash tests; unset in production.
    const killAfterSend = Number(context.env.ESS_FAULT_KILL_AFTER_SEND ?? 0);
    const engine = await EssEngine.create(config, {
      logger,
      leaseMs,
      captureEnabled: options.capture !== false,
      acceptSourceChange: options.acceptSourceChange === true,
      ...(killAfterSend > 0 ? { killAfterSendProbability: killAfterSend } : {}),
    });
    let address: HttpAddress;
    try {
      address = await engine.listen();
    } catch (error) {
      await engine
        .stop()
        .catch((stopError: unknown) => logger.warn({ err: stopError }, "cleanup after a failed start"));
      throw error;
    }
    logger.info({ url: address.url }, "HTTP endpoints listening: /metrics /healthz /readyz /inbound/<connector>");
    const running = engine.start();
    const stopped = new Promise<void>((resolve) => {
      if (context.signal.aborted) resolve();
      context.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    logger.info(
      { connectors: config.connectors.map((c) => c.name), mappings: config.mappings.map((m) => m.name) },
      "ESS started",
    );
    try {
      await Promise.race([running, stopped]);
    } catch (error) {
      logger.error({ err: error }, "ESS stopped on an error");
      await engine.stop().catch(() => undefined);
      throw error;
    }
    logger.info("stopping: finishing the batches in hand and storing what was received");
    await engine.stop();
    logger.info("ESS stopped");
    return EXIT.ok;
  },
};

function parseDurationOption(value: unknown, option: string): number {
  const ms = parseDuration(String(value));
  if (ms === undefined || ms <= 0)
    throw new UsageError(`--${option} takes a duration like 30s or 2m, got ${String(value)}`, option);
  return ms;
}
