// Keeps a long-running `essctl start` alive through failures that escaped every handler: a
// rejected promise nobody awaited is logged and the process serves on; an uncaught exception is
// logged and, unless it is a lost socket (safe to drop), ends the process through a graceful stop
// so a supervisor restarts it, instead of Node's silent exit.
import { redactSecrets } from "../config/secrets.js";
import type { Logger } from "./logger.js";

/** Socket failures that concern one peer only; everything else may leave state half-changed. */
const PEER_ERRORS = new Set([
  "ECONNRESET",
  "EPIPE",
  "ECONNABORTED",
  "ETIMEDOUT",
  "ERR_STREAM_DESTROYED",
  "ERR_STREAM_WRITE_AFTER_END",
]);

export interface ProcessGuard {
  /** Removes the handlers (the command is over). */
  release(): void;
}

function describe(error: unknown): { message: string; code?: string; stack?: string } {
  const e = error as { message?: unknown; code?: unknown; stack?: unknown } | undefined;
  const message = redactSecrets(String(e?.message ?? error));
  const code = typeof e?.code === "string" ? e.code : undefined;
  const stack = typeof e?.stack === "string" ? redactSecrets(e.stack) : undefined;
  return { message, ...(code ? { code } : {}), ...(stack ? { stack } : {}) };
}

export function guardProcess(logger: Logger, stopGracefully: (reason: string) => void): ProcessGuard {
  const onRejection = (reason: unknown) => {
    logger.error({ err: describe(reason) }, "unhandled promise rejection; ESS keeps running");
  };
  const onException = (error: unknown) => {
    const info = describe(error);
    if (info.code && PEER_ERRORS.has(info.code)) {
      logger.error({ err: info }, "uncaught socket error; the connection is dropped and ESS keeps running");
      return;
    }
    logger.fatal({ err: info }, "uncaught exception; ESS stops gracefully and exits 1");
    process.exitCode = 1;
    stopGracefully(info.message);
  };
  process.on("unhandledRejection", onRejection);
  process.on("uncaughtException", onException);
  return {
    release() {
      process.off("unhandledRejection", onRejection);
      process.off("uncaughtException", onException);
    },
  };
}
