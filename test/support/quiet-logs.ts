// JSON log lines that a test, or a process it forwards, writes to the test run's output go to a log
// file per test worker instead, so results are not buried under them; a failing test prints where
// that file is and the lines logged while it ran.
import { appendFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A pino line: `{"level":30,"time":…`. */
const JSON_LOG_LINE = /^\s*\{"level":\d+,/;

export interface LogDiversion {
  readonly file: string;
  /** The lines diverted since the last `mark()`. */
  since(mark: number): string[];
  mark(): number;
}

type Writer = Pick<NodeJS.WritableStream, "write">;
type Write = (chunk: string | Uint8Array, ...rest: unknown[]) => boolean;

/**
 * Wraps `stream.write`: whole JSON log lines are appended to `file`, everything else is written
 * as before. A chunk holding both is split at its line breaks.
 */
export function divertLogLines(streams: readonly Writer[], file: string): LogDiversion {
  const diverted: string[] = [];
  let created = false;
  for (const stream of streams) {
    const original = stream.write.bind(stream) as Write;
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
      const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
      if (!JSON_LOG_LINE.test(text) && !text.includes('\n{"level":')) return original(chunk, ...rest);
      const kept: string[] = [];
      const logged: string[] = [];
      for (const line of text.split(/(?<=\n)/)) (JSON_LOG_LINE.test(line) ? logged : kept).push(line);
      if (!created) {
        mkdirSync(join(file, ".."), { recursive: true });
        created = true;
      }
      appendFileSync(file, logged.map((line) => (line.endsWith("\n") ? line : `${line}\n`)).join(""));
      diverted.push(...logged.map((line) => line.trimEnd()));
      // Callbacks (the last argument, when a function) still run once the write is done.
      const callback = rest.find((arg) => typeof arg === "function") as (() => void) | undefined;
      if (kept.length > 0) return original(kept.join(""), ...rest);
      if (callback) queueMicrotask(callback);
      return true;
    }) as Writer["write"];
  }
  return {
    file,
    since: (mark) => diverted.slice(mark),
    mark: () => diverted.length,
  };
}

export function testLogFile(): string {
  return join(tmpdir(), "ess-test-logs", `worker-${process.pid}.log`);
}
