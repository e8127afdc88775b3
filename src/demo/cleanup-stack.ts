// Undoes what the demo set up, newest first, and reports every step that failed instead of stopping at it.

export interface CleanupFailure {
  readonly what: string;
  readonly error: unknown;
}

export class CleanupStack {
  private readonly steps: { readonly what: string; readonly undo: () => Promise<void> }[] = [];

  /** `what` names the step in a failure report: "stopping the SOAP partner". */
  push(what: string, undo: () => Promise<void>): void {
    this.steps.push({ what, undo });
  }

  /** Runs every step once, even after a failure; returns the failures. */
  async run(): Promise<CleanupFailure[]> {
    const failures: CleanupFailure[] = [];
    for (let step = this.steps.pop(); step; step = this.steps.pop()) {
      try {
        await step.undo();
      } catch (error) {
        failures.push({ what: step.what, error });
      }
    }
    return failures;
  }
}
