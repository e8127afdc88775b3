// What each delivery of an attempted batch becomes: sent, retried at a time, or dead (pure rules).
import { AdapterError, type ItemOutcome } from "../adapters/adapter.js";
import type { RetryPolicy } from "../config/types.js";
import type { ItemVerdict } from "../ledger/batch-outcomes.js";
import { decideRetry } from "./retry-policy.js";

/** The reason per-record adapters give for items they did not send because an earlier one failed. */
export const NOT_ATTEMPTED = "not_attempted";

export interface AttemptedItem {
  readonly id: string;
  readonly token: string;
  /** This delivery's attempt number. */
  readonly attempt: number;
  /** When this delivery was first attempted: retry.maxAge counts from here. */
  readonly firstAttemptAt: Date;
  /** The application event's own limit (Gateway.send / ess.send option maxAttempts), when tighter. */
  readonly maxAttempts?: number | null;
}

/** An event's maxAttempts can only tighten the connector's policy, never loosen it. */
export function policyFor(policy: RetryPolicy, maxAttempts: number | null | undefined): RetryPolicy {
  return maxAttempts && maxAttempts < policy.maxAttempts ? { ...policy, maxAttempts } : policy;
}

export interface ItemVerdicts {
  readonly verdicts: readonly ItemVerdict[];
  /** The first failure that needs an operator (the connector is held until then). */
  readonly attention?: AdapterError;
}

/** Verdicts from per-item outcomes (per-record adapters, or a drop batch that was accepted whole). */
export function verdictsForOutcomes(
  items: readonly AttemptedItem[],
  outcomes: readonly ItemOutcome[],
  policy: RetryPolicy,
  now: Date = new Date(),
): ItemVerdicts {
  const byId = new Map(outcomes.map((o) => [o.id, o]));
  let attention: AdapterError | undefined;
  const verdicts = items.map((item): ItemVerdict => {
    const outcome = byId.get(item.id);
    if (!outcome) {
      return retryOrDead(
        item,
        new AdapterError("the adapter returned no outcome for this delivery", {
          failure: "retriable",
          reason: "no_outcome",
        }),
        policy,
        now,
      );
    }
    if (outcome.ok) {
      return {
        id: item.id,
        token: item.token,
        verdict: "sent",
        ...(outcome.reference ? { reference: outcome.reference } : {}),
      };
    }
    if (outcome.error.reason === NOT_ATTEMPTED) {
      // The partner never saw it (an earlier record of the batch failed): queue it again at
      // once, without spending an attempt, so keys other than the failing one keep flowing.
      return {
        id: item.id,
        token: item.token,
        verdict: "retry",
        error: outcome.error.message,
        reason: NOT_ATTEMPTED,
        delayMs: 0,
        spent: false,
      };
    }
    if (outcome.error.failure === "attention") attention ??= outcome.error;
    return retryOrDead(item, outcome.error, policy, now);
  });
  return attention ? { verdicts, attention } : { verdicts };
}

/** A whole drop batch failed: every member shares the batch's decision. */
export function verdictsForBatchFailure(
  items: readonly AttemptedItem[],
  failure: AdapterError,
  batchAttempt: number,
  policy: RetryPolicy,
  now: Date = new Date(),
): { readonly decision: "retry" | "dead"; readonly delayMs: number; readonly verdicts: readonly ItemVerdict[] } {
  // The batch travels as one: it has been retried since its earliest member's first attempt.
  const firstAttempt = Math.min(...items.map((i) => i.firstAttemptAt.getTime()));
  const tightest = Math.min(...items.map((i) => i.maxAttempts ?? policy.maxAttempts));
  const decision = decideRetry(policyFor(policy, tightest), failure.failure, {
    attempt: batchAttempt,
    retryingForMs: Math.max(0, now.getTime() - firstAttempt),
    retryAfterMs: failure.retryAfterMs,
  });
  const delayMs = decision.verdict === "retry" ? decision.delayMs : 0;
  const error = decision.verdict === "dead" ? deadError(failure, decision.why) : failure.message;
  const verdicts = items.map(
    (item): ItemVerdict =>
      decision.verdict === "retry"
        ? { id: item.id, token: item.token, verdict: "retry", error, reason: failure.reason, delayMs }
        : { id: item.id, token: item.token, verdict: "dead", error, reason: failure.reason },
  );
  return { decision: decision.verdict, delayMs, verdicts };
}

function retryOrDead(item: AttemptedItem, error: AdapterError, policy: RetryPolicy, now: Date): ItemVerdict {
  const decision = decideRetry(policyFor(policy, item.maxAttempts), error.failure, {
    attempt: item.attempt,
    retryingForMs: Math.max(0, now.getTime() - item.firstAttemptAt.getTime()),
    retryAfterMs: error.retryAfterMs,
  });
  return decision.verdict === "retry"
    ? {
        id: item.id,
        token: item.token,
        verdict: "retry",
        error: error.message,
        reason: error.reason,
        delayMs: decision.delayMs,
      }
    : { id: item.id, token: item.token, verdict: "dead", error: deadError(error, decision.why), reason: error.reason };
}

/** The dead letter's error says why ESS gave up, beside what the partner said. */
function deadError(error: AdapterError, why: string): string {
  return error.failure === "permanent" ? error.message : `${error.message} (gave up: ${why})`;
}
