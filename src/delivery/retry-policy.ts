// Decides what a failed attempt becomes: a retry at a time (exponential backoff with full jitter,
// or the partner's Retry-After), or a dead letter once the failure is permanent, the attempts
// are spent (retry.maxAttempts) or the delivery has been retried for retry.maxAge.

import type { FailureClass } from "../adapters/adapter.js";
import { backoffDelay } from "../capture/backoff.js";
import { formatDuration } from "../config/duration.js";
import type { RetryPolicy } from "../config/types.js";

export interface FailedAttempt {
  /** The attempt that failed (1 for the first). */
  readonly attempt: number;
  /** Time since the delivery's first attempt. */
  readonly retryingForMs: number;
  /** The partner's Retry-After, when it gave one. */
  readonly retryAfterMs?: number | undefined;
}

export type RetryDecision =
  | { readonly verdict: "retry"; readonly delayMs: number }
  | { readonly verdict: "dead"; readonly why: string };

export function decideRetry(
  policy: RetryPolicy,
  failure: FailureClass,
  failed: FailedAttempt,
  random: () => number = Math.random,
): RetryDecision {
  if (failure === "permanent") return { verdict: "dead", why: "permanent failure" };
  if (failed.attempt >= policy.maxAttempts) {
    return { verdict: "dead", why: `retry.maxAttempts ${policy.maxAttempts} spent` };
  }
  const left = policy.maxAgeMs - failed.retryingForMs;
  if (left <= 0) {
    return {
      verdict: "dead",
      why: `retry.maxAge ${formatDuration(policy.maxAgeMs)} reached after ${failed.attempt} attempts`,
    };
  }
  const wanted =
    failed.retryAfterMs !== undefined && failed.retryAfterMs >= 0
      ? failed.retryAfterMs
      : backoffDelay({ initialMs: policy.initialDelayMs, maxMs: policy.maxDelayMs }, failed.attempt - 1, random);
  // The last attempt falls on maxAge rather than after it.
  return { verdict: "retry", delayMs: Math.min(wanted, left) };
}
