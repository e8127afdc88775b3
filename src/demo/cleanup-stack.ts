// Undoes what the demo set up, newest first, and reports every step that failed instead of stopping at it.

export interface CleanupFailure {
  readonly what: string;
  readonly error: unknown;
}

/** A clean-up step that did not finish in time: the next steps run anyway. */
export class CleanupStepTimeoutError extends Error {
  override readonly name = "CleanupStepTimeoutError";
}

/**
 * How long one step may take. Each step bounds its own waits (a server's stop, a graceful
 * engine stop); this is the last resort, so that one step that never settles names itself
 * instead of leaving everything after it running and the demo hanging after Ctrl-C.
 */
const STEP_TIMEOUT_MS = 30_000;

export class CleanupStack {
  private readonly steps: { readonly what: string; readonly undo: () => Promise<void> }[] = [];

  constructor(private readonly stepTimeoutMs = STEP_TIMEOUT_MS) {}

  /** `what` names the step in a failure report: "stopping the SOAP partner". */
  push(what: string, undo: () => Promise<void>): void {
    this.steps.push({ what, undo });
  }

  /** Runs every step once, even after a failure or a step that did not finish in time; returns the failures. */
  async run(): Promise<CleanupFailure[]> {
    const failures: CleanupFailure[] = [];
    for (let step = this.steps.pop(); step; step = this.steps.pop()) {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new CleanupStepTimeoutError(`did not finish within ${this.stepTimeoutMs / 1000} s`)),
          this.stepTimeoutMs,
        );
      });
      try {
        await Promise.race([step.undo(), timedOut]);
      } catch (error) {
        failures.push({ what: step.what, error });
      } finally {
        clearTimeout(timer);
      }
    }
    return failures;
  }
}
