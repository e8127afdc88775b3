import { describe, expect, it } from "vitest";
import { decideRetry } from "../../src/delivery/retry-policy.js";

const policy = { maxAttempts: 5, initialDelayMs: 1000, maxDelayMs: 8000, maxAgeMs: 60_000 };
const at = (attempt: number, retryAfterMs?: number, retryingForMs = 0) => ({ attempt, retryAfterMs, retryingForMs });

describe("retry policy: exponential backoff with full jitter", () => {
  it.each([
    // attempt, random, expected delay: uniform in [initial, min(max, initial·2^(attempt-1))]
    { attempt: 1, random: 0, delay: 1000 },
    { attempt: 1, random: 0.999, delay: 1000 },
    { attempt: 2, random: 0.999, delay: 1998 },
    { attempt: 3, random: 0.5, delay: 2000 },
    { attempt: 4, random: 0.999, delay: 7992 },
    { attempt: 4, random: 0.1, delay: 1000 },
  ])("attempt $attempt with random $random waits $delay ms", ({ attempt, random, delay }) => {
    expect(decideRetry(policy, "retriable", at(attempt), () => random)).toEqual({
      verdict: "retry",
      delayMs: delay,
    });
  });

  it("never waits longer than maxDelay", () => {
    const decision = decideRetry({ ...policy, maxAttempts: 50 }, "retriable", at(30), () => 0.999999);
    expect(decision).toEqual({ verdict: "retry", delayMs: 7999 });
  });

  it("goes dead once maxAttempts are spent, and at once for a permanent failure", () => {
    expect(decideRetry(policy, "retriable", at(5))).toEqual({ verdict: "dead", why: "retry.maxAttempts 5 spent" });
    expect(decideRetry(policy, "permanent", at(1))).toEqual({ verdict: "dead", why: "permanent failure" });
  });

  it("honours the partner's Retry-After", () => {
    expect(decideRetry(policy, "retriable", at(1, 2000))).toEqual({ verdict: "retry", delayMs: 2000 });
  });

  it.each([
    { retryingForMs: 59_999, decision: { verdict: "retry", delayMs: 1 } },
    { retryingForMs: 55_000, decision: { verdict: "retry", delayMs: 5000 } },
    { retryingForMs: 60_000, decision: { verdict: "dead", why: "retry.maxAge 1m reached after 3 attempts" } },
    { retryingForMs: 90_000, decision: { verdict: "dead", why: "retry.maxAge 1m reached after 3 attempts" } },
  ])("retried for $retryingForMs ms of a 1m maxAge: $decision.verdict", ({ retryingForMs, decision }) => {
    // Retry-After 10 s is cut to the time left: the last attempt falls on maxAge.
    expect(decideRetry(policy, "retriable", at(3, 10_000, retryingForMs))).toEqual(decision);
  });

  it("the defaults carry a delivery through a night: no attempt limit is reached before a day of retrying", async () => {
    const { DEFAULTS } = await import("../../src/config/defaults.js");
    // Every delay at the jitter's mean (half its ceiling): maxAge, not maxAttempts, ends the run.
    let elapsed = 0;
    let attempt = 1;
    for (; attempt < DEFAULTS.retry.maxAttempts; attempt++) {
      const decision = decideRetry(DEFAULTS.retry, "retriable", at(attempt, undefined, elapsed), () => 0.5);
      if (decision.verdict === "dead") break;
      elapsed += decision.delayMs;
    }
    expect(elapsed).toBe(DEFAULTS.retry.maxAgeMs);
    expect(attempt).toBeLessThan(DEFAULTS.retry.maxAttempts);
    expect(DEFAULTS.retry.maxAgeMs).toBe(24 * 3_600_000);
  });
});
