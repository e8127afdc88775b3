// pino JSON logs; pretty output when stdout is a terminal; secrets redacted by path.
import { pino } from "pino";

export type Logger = pino.Logger;

export interface LoggerOptions {
  readonly level?: string;
  /** Write to this destination instead of stdout (tests, the CLI's stderr). */
  readonly destination?: NodeJS.WritableStream;
}

const REDACTED_PATHS = [
  "password",
  "passphrase",
  "privateKey",
  "secret",
  "token.secret",
  "*.password",
  "*.passphrase",
  "*.privateKey",
  "*.secret",
  "headers.authorization",
  "headers.Authorization",
];

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.ESS_LOG_LEVEL ?? "info";
  if (options.destination) {
    return pino({ level, redact: { paths: REDACTED_PATHS, censor: "***" } }, options.destination);
  }
  if (process.stdout.isTTY) {
    return pino({
      level,
      redact: { paths: REDACTED_PATHS, censor: "***" },
      transport: { target: "pino-pretty", options: { colorize: true } },
    });
  }
  return pino({ level, redact: { paths: REDACTED_PATHS, censor: "***" } });
}

/** A logger that drops everything (library use and unit tests). */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
