// Decides what a failed attempt becomes: a retry at a time (exponential backoff with full jitter,
// or the partner's Retry-After), or a dead letter once attempts are spent or the failure is permanent.

import type { FailureClass } from "../adapters/adapter.js";
import { backoffDelay } from "../capture/backoff.js";
import type { RetryPolicy } from "../config/types.js";

export type RetryDecision = { readonly verdict: "retry"; readonly delayMs: number } | { readonly verdict: "dead" };

export function decideRetry(
  policy: RetryPolicy,
  failure: FailureClass,
  attempt: number,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): RetryDecision {
  if (failure === "permanent") return { verdict: "dead" };
  if (attempt >= policy.maxAttempts) return { verdict: "dead" };
  if (retryAfterMs !== undefined && retryAfterMs >= 0) return { verdict: "retry", delayMs: retryAfterMs };
  return {
    verdict: "retry",
    delayMs: backoffDelay({ initialMs: policy.initialDelayMs, maxMs: policy.maxDelayMs }, attempt - 1, random),
  };
}
