// essctl start: runs replication, delivery workers, heartbeats and the HTTP endpoints until SIGTERM/SIGINT (graceful).
import { loadConfig, parseDuration } from "../config/index.js";
import { EssEngine } from "../engine.js";
import { ignoredFaultSettings } from "../fault-points.js";
import type { HttpAddress } from "../ops/http-server.js";
import { createLogger } from "../ops/logger.js";
import { guardProcess } from "../ops/process-guard.js";
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
    const ignoredFaults = ignoredFaultSettings(context.env);
    if (ignoredFaults) logger.warn(ignoredFaults);
    const engine = await EssEngine.create(config, {
      logger,
      leaseMs,
      captureEnabled: options.capture !== false,
      acceptSourceChange: options.acceptSourceChange === true,
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
    const partners = engine.inboundAddress();
    if (partners && partners.url !== address.url) {
      logger.info({ url: address.url }, "operators' HTTP endpoints listening: /metrics /healthz /readyz");
      logger.info(
        { url: partners.url },
        "partners' HTTP endpoints listening: /inbound/<connector> /events /receipts/<id>",
      );
    } else {
      logger.info({ url: address.url }, "HTTP endpoints listening: /metrics /healthz /readyz /inbound/<connector>");
    }
    let fatal: string | undefined;
    let stopNow: () => void = () => undefined;
    const stopped = new Promise<void>((resolve) => {
      stopNow = resolve;
      if (context.signal.aborted) resolve();
      context.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    const guard = guardProcess(logger, (reason) => {
      fatal = reason;
      stopNow();
    });
    const running = engine.start();
    logger.info(
      { connectors: config.connectors.map((c) => c.name), mappings: config.mappings.map((m) => m.name) },
      "ESS started",
    );
    try {
      await Promise.race([running, stopped]);
    } catch (error) {
      logger.error({ err: error }, "ESS stopped on an error");
      await stopWithin(engine, STOP_AFTER_ERROR_MS, logger);
      guard.release();
      throw error;
    }
    logger.info("stopping: finishing the batches in hand and storing what was received");
    await engine.stop();
    guard.release();
    logger.info("ESS stopped");
    return fatal === undefined ? EXIT.ok : EXIT.failure;
  },
};

/**
 * How long a process that stopped on an error waits for its parts to stop before it exits anyway.
 * A service manager restarts it only once it has exited, and a part still waiting on a server that
 * went away (the error is often exactly that) must not keep it alive; the ledger makes exiting
 * here as safe as a crash.
 */
const STOP_AFTER_ERROR_MS = 30_000;

async function stopWithin(engine: EssEngine, ms: number, logger: ReturnType<typeof createLogger>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), ms);
  });
  const outcome = await Promise.race([engine.stop().catch(() => undefined), late]);
  clearTimeout(timer);
  if (outcome === "late") logger.warn({ waitedMs: ms }, "parts of ESS did not stop in time; exiting without them");
}

function parseDurationOption(value: unknown, option: string): number {
  const ms = parseDuration(String(value));
  if (ms === undefined || ms <= 0)
    throw new UsageError(`--${option} takes a duration like 30s or 2m, got ${String(value)}`, option);
  return ms;
}
