// pino JSON logs; pretty output when stdout is a terminal; secrets and row data redacted (log-redaction.ts).
import { pino } from "pino";
import { loggableMessage, loggableObject, redactLogLine } from "./log-redaction.js";

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
  // Every line goes through the same two steps: the logged objects are made safe (errors without
  // the database's row data), then the written text loses every registered secret, message included.
  const settings: pino.LoggerOptions = {
    level,
    redact: { paths: REDACTED_PATHS, censor: "***" },
    formatters: { log: loggableObject },
    serializers: { err: (error: unknown) => error },
    hooks: {
      // pino makes an error's own message the line's `msg` when the error is all there is to log,
      // before any formatter sees it: a database error's message quotes the refused value.
      logMethod(args, method) {
        const [first, ...rest] = args as unknown[];
        if (first instanceof Error && typeof rest[0] !== "string") {
          return method.call(this, { err: first }, loggableMessage(first));
        }
        return method.apply(this, args);
      },
      streamWrite: redactLogLine,
    },
  };
  if (options.destination) return pino(settings, options.destination);
  if (process.stdout.isTTY) {
    return pino({ ...settings, transport: { target: "pino-pretty", options: { colorize: true } } });
  }
  return pino(settings);
}

/** A logger that drops everything (library use and unit tests). */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
