// Decides from the saved offset and the file's size whether an append is due, already done, or unsafe.
//
// Append mode keeps one growing file per name. Before bytes are appended, the size the file had
// is made durable in the ledger (`{ offset }`); a retry compares that offset with the file:
//   no saved offset             -> first attempt: record the current size, then append there
//   size == offset              -> the earlier attempt never appended: append now
//   size == offset + body bytes -> the earlier attempt appended and crashed before the ledger
//                                  heard of it: done, append nothing (no duplicated rows)
//   anything else               -> someone else wrote to the file, or an append was torn:
//                                  stop and ask an operator
// A missing file counts as size 0 only while the saved offset is 0 (the first append creates it).
// This is sound only while ESS is the sole writer of the file.

export type AppendDecision =
  /** Write the body at `at`; when `record` is true, save `{ offset: at }` first. */
  | { readonly action: "append"; readonly at: number; readonly record: boolean }
  /** The body is already in the file. */
  | { readonly action: "done" }
  /** The file matches neither expected size. */
  | { readonly action: "mismatch"; readonly expected: readonly number[]; readonly found: number | undefined };

/** The state an append attempt saves through `context.saveState`. */
export interface AppendState {
  readonly offset: number;
}

/**
 * Reads the saved offset out of a batch's adapter state: undefined when none was saved, or an
 * error message when the state holds something that is not a byte offset.
 */
export function readSavedOffset(
  state: Readonly<Record<string, unknown>> | undefined,
): { readonly offset: number | undefined } | { readonly invalid: string } {
  const offset = state?.offset;
  if (offset === undefined) return { offset: undefined };
  if (typeof offset === "number" && Number.isSafeInteger(offset) && offset >= 0) return { offset };
  return { invalid: `saved append offset ${JSON.stringify(offset)} is not a byte offset` };
}

export function decideAppend(
  savedOffset: number | undefined,
  size: number | undefined,
  bodyLength: number,
): AppendDecision {
  if (savedOffset === undefined) return { action: "append", at: size ?? 0, record: true };
  const expected = [savedOffset, savedOffset + bodyLength];
  const found = size === undefined && savedOffset === 0 ? 0 : size;
  if (found === savedOffset) return { action: "append", at: savedOffset, record: false };
  if (found === savedOffset + bodyLength) return { action: "done" };
  return { action: "mismatch", expected, found: size };
}

/** The operator-facing words for a mismatch. */
export function describeMismatch(path: string, decision: Extract<AppendDecision, { action: "mismatch" }>): string {
  const [before, after] = decision.expected;
  const found = decision.found === undefined ? "no such file" : `${decision.found} bytes`;
  return (
    `append file ${path} does not match the saved offset: expected ${before} bytes (batch not yet appended) ` +
    `or ${after} bytes (batch already appended), found ${found}; check who else writes to it before resuming`
  );
}
