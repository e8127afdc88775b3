// Delivers one batch into a drop directory (file-per-batch or append), whatever the target behind it.
//
// file-per-batch: the body is uploaded under `<name><tempSuffix>` and renamed into place, so a
// reader never sees a partial file; the rename replaces a file of the same name, so a resend after
// a crash rewrites the same file instead of adding a second one. Then the done file, if any, is
// written the same way; it contains the data file's name and a line feed, and appears only after
// the data file is complete. An empty tempSuffix writes in place (no atomicity).
// append: see drop-append.ts. tempSuffix and doneFile do not apply: the file grows in place. With
// `rotate:`, {date:…} of the name is the start of the batch's rotation period, so the first batch of
// a new period starts a new file (at offset 0) and the last period's file is left as it was.
import { faultPoint } from "../fault-points.js";
import type { Logger } from "../ops/logger.js";
import { AdapterError, type Batch, type ItemAccepted, type SendContext } from "./adapter.js";
import { decideAppend, describeMismatch, readSavedOffset } from "./drop-append.js";
import {
  assertSafeFileName,
  type DropFileNames,
  DropNameError,
  type DropNameInput,
  dropFileNames,
  renderDropName,
} from "./drop-naming.js";
import { appendPeriodInput } from "./drop-rotation.js";
import { type DropTarget, DropTargetError, throwIfAborted } from "./drop-target.js";

/** The subset of a connector's drop options the algorithm reads. */
export interface DropSettings {
  readonly file: string;
  readonly mode: "file-per-batch" | "append";
  readonly tempSuffix: string;
  readonly doneFile?: string | undefined;
  /** Zone of {date:…} (UTC when absent). */
  readonly dateTimezone?: string | undefined;
  /** `rotate:`; in append mode a new file starts each period. */
  readonly rotateMs?: number | undefined;
}

/** How long the best-effort removal of a failed upload's temp file may take. */
const CLEANUP_TIMEOUT_MS = 5_000;

function nameError(error: unknown): never {
  if (error instanceof DropNameError) {
    throw new AdapterError(error.message, { failure: "attention", reason: "invalid_file_name", cause: error });
  }
  throw error;
}

/** The file name of a new batch (an AdapterError "attention" when the template cannot make a safe name). */
export function batchFileName(settings: DropSettings, batch: DropNameInput): string {
  try {
    if (settings.mode === "append" && settings.rotateMs !== undefined) {
      // {date:…} names the batch's rotation period, already on the zone's wall clock.
      return renderDropName(settings.file, appendPeriodInput(batch, settings.rotateMs, settings.dateTimezone), "UTC");
    }
    return renderDropName(settings.file, batch, settings.dateTimezone);
  } catch (error) {
    return nameError(error);
  }
}

/** Uploads `body` under `temp` and renames it to `name`; without a temp name, writes in place. */
async function putAtomically(
  target: DropTarget,
  name: string,
  temp: string | undefined,
  body: Buffer,
  signal: AbortSignal,
  logger: Logger,
  connector: string,
): Promise<void> {
  if (temp === undefined) {
    await target.write(name, body, signal);
    return;
  }
  try {
    await target.write(temp, body, signal);
    faultPoint("temp-written-before-rename", connector);
    await target.rename(temp, name, signal);
  } catch (error) {
    // The next attempt truncates the temp file anyway; removing it now only spares the partner
    // a stray half upload. Its failure must not hide the original error.
    await target.unlink(temp, AbortSignal.timeout(CLEANUP_TIMEOUT_MS)).catch((cleanupError: unknown) => {
      logger.warn({ err: cleanupError, file: target.pathOf(temp) }, "could not remove a failed upload's temp file");
    });
    throw error;
  }
}

async function appendOnce(
  target: DropTarget,
  name: string,
  batch: Batch,
  context: SendContext,
  logger: Logger,
): Promise<void> {
  const path = target.pathOf(name);
  const saved = readSavedOffset(batch.state);
  if ("invalid" in saved) {
    throw new DropTargetError(saved.invalid, {
      failure: "attention",
      reason: "invalid_saved_state",
      operation: "stat",
      path,
    });
  }
  const size = await target.size(name, context.signal);
  // The saved offset, once there is one, fixes where the batch goes and so which bytes it writes:
  // the file header only when the batch starts the file.
  const at = saved.offset ?? size ?? 0;
  const header = batch.fileHeader;
  const startsWithHeader = header !== undefined && batch.body.subarray(0, header.length).equals(header);
  const bytes = at > 0 && startsWithHeader ? batch.body.subarray(header.length) : batch.body;
  const decision = decideAppend(saved.offset, size, bytes.length);
  switch (decision.action) {
    case "mismatch":
      throw new DropTargetError(describeMismatch(path, decision), {
        failure: "attention",
        reason: "append_offset_mismatch",
        operation: "stat",
        path,
      });
    case "done":
      logger.info({ batch: batch.id, file: path, size }, "batch already appended by an earlier attempt");
      return;
    case "append":
      if (decision.record) {
        try {
          await context.saveState({ offset: decision.at });
        } catch (error) {
          if (error instanceof AdapterError) throw error;
          throw new AdapterError(`could not record the append offset of ${path} before appending`, {
            failure: "retriable",
            reason: "state_not_saved",
            cause: error,
          });
        }
      }
      faultPoint("offset-recorded-before-append", batch.connector);
      throwIfAborted("append", path, context.signal);
      await target.append(name, bytes, decision.at, context.signal);
  }
}

/**
 * Delivers a batch all-or-nothing: resolves with one accepted outcome per item (reference = the
 * file's path) or throws an AdapterError.
 */
export async function deliverDrop(
  target: DropTarget,
  settings: DropSettings,
  batch: Batch,
  context: SendContext,
  logger: Logger,
): Promise<ItemAccepted[]> {
  const name = batch.name ?? batchFileName(settings, batch);
  let names: DropFileNames;
  try {
    // Append mode writes only the data file: its temp and done names are never used.
    names = settings.mode === "append" ? { file: assertSafeFileName(name) } : dropFileNames(settings, name);
  } catch (error) {
    return nameError(error);
  }
  const path = target.pathOf(name);
  throwIfAborted("write", path, context.signal);
  const started = Date.now();
  if (settings.mode === "append") {
    await appendOnce(target, name, batch, context, logger);
  } else {
    await putAtomically(target, name, names.temp, batch.body, context.signal, logger, batch.connector);
    if (names.done !== undefined) {
      await putAtomically(
        target,
        names.done,
        names.doneTemp,
        Buffer.from(`${name}\n`),
        context.signal,
        logger,
        batch.connector,
      );
    }
  }
  logger.info(
    { batch: batch.id, file: path, bytes: batch.body.length, items: batch.items.length, ms: Date.now() - started },
    "batch dropped",
  );
  return batch.items.map((item) => ({ id: item.id, ok: true as const, reference: path }));
}
