// What can end a demo run early: a step that failed (named, with its cause) or an operator's signal.

/** One step of the demo failed; `stage` says which, in the words the demo prints. */
export class DemoStageError extends Error {
  override readonly name = "DemoStageError";
  constructor(
    readonly stage: string,
    options: { cause: unknown },
  ) {
    super(`the demo failed while ${stage}: ${describe(options.cause)}`, options);
  }
}

/** SIGINT/SIGTERM arrived while the demo ran; it cleaned up and stopped. */
export class DemoInterruptedError extends Error {
  override readonly name = "DemoInterruptedError";
  constructor(readonly signal: string) {
    super(`the demo was interrupted (${signal})`);
  }
}

/** An Error reason (ESS itself stopped) is thrown as is; a signal name becomes DemoInterruptedError. */
export function throwIfInterrupted(signal: AbortSignal): void {
  if (!signal.aborted) return;
  if (signal.reason instanceof Error) throw signal.reason;
  throw new DemoInterruptedError(String(signal.reason ?? "aborted"));
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // Our own step errors already carry their context in the message; a library error's name helps.
  return error.message || error.name;
}
