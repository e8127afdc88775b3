import { describe, expect, it } from "vitest";
import { decideRetry } from "../../src/delivery/retry-policy.js";

const policy = { maxAttempts: 5, initialDelayMs: 1000, maxDelayMs: 8000 };

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
    expect(decideRetry(policy, "retriable", attempt, undefined, () => random)).toEqual({
      verdict: "retry",
      delayMs: delay,
    });
  });

  it("never waits longer than maxDelay", () => {
    const decision = decideRetry({ ...policy, maxAttempts: 50 }, "retriable", 30, undefined, () => 0.999999);
    expect(decision).toEqual({ verdict: "retry", delayMs: 7999 });
  });

  it("goes dead once maxAttempts are spent, and at once for a permanent failure", () => {
    expect(decideRetry(policy, "retriable", 5, undefined)).toEqual({ verdict: "dead" });
    expect(decideRetry(policy, "permanent", 1, undefined)).toEqual({ verdict: "dead" });
  });

  it("honours the partner's Retry-After", () => {
    expect(decideRetry(policy, "retriable", 1, 2000)).toEqual({ verdict: "retry", delayMs: 2000 });
  });
});
