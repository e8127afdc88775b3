// Delivers a batch one record at a time for per-record adapters (rest, soap), keeping batch order.
import { AdapterError, type DeliveryItem, type ItemOutcome } from "./adapter.js";

/** Sends one record; resolves with the partner's reference or rejects with an AdapterError. */
export type SendRecord = (item: DeliveryItem) => Promise<string | undefined>;

/**
 * Sends items in batch order. The first failure that is not permanent stops the batch and marks
 * every later item retriable without sending it: a later change for the same key must never
 * overtake an earlier one that will be retried. A permanent failure concerns that record only.
 */
export async function sendRecordsInOrder(
  items: readonly DeliveryItem[],
  signal: AbortSignal,
  send: SendRecord,
  toAdapterError: (error: unknown) => AdapterError,
): Promise<ItemOutcome[]> {
  const outcomes: ItemOutcome[] = [];
  let stop: AdapterError | undefined;
  for (const item of items) {
    if (!stop && signal.aborted) {
      stop = new AdapterError("the delivery was aborted before this record was sent", {
        failure: "retriable",
        reason: "aborted",
      });
      outcomes.push({ id: item.id, ok: false, error: stop });
      continue;
    }
    if (stop) {
      outcomes.push({ id: item.id, ok: false, error: notAttempted(stop) });
      continue;
    }
    try {
      const reference = await send(item);
      outcomes.push(reference === undefined ? { id: item.id, ok: true } : { id: item.id, ok: true, reference });
    } catch (caught) {
      const error = caught instanceof AdapterError ? caught : toAdapterError(caught);
      outcomes.push({ id: item.id, ok: false, error });
      if (error.failure !== "permanent") stop = error;
    }
  }
  return outcomes;
}

function notAttempted(cause: AdapterError): AdapterError {
  return new AdapterError(`not sent: an earlier record of this batch failed (${cause.reason})`, {
    failure: "retriable",
    reason: "not_attempted",
    retryAfterMs: cause.retryAfterMs,
    cause,
  });
}
