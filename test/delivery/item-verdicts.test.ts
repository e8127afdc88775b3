import { describe, expect, it } from "vitest";
import { AdapterError, type ItemOutcome } from "../../src/adapters/adapter.js";
import { NOT_ATTEMPTED, verdictsForBatchFailure, verdictsForOutcomes } from "../../src/delivery/item-verdicts.js";

const policy = { maxAttempts: 3, initialDelayMs: 1000, maxDelayMs: 4000, maxAgeMs: 3_600_000 };
const NOW = new Date();
const item = (id: string, attempt = 1, firstAttemptAt = NOW) => ({ id, token: `t${id}`, attempt, firstAttemptAt });

describe("what each delivery of an attempted batch becomes", () => {
  it.each([
    {
      what: "accepted → sent, with the partner's reference",
      outcome: { id: "1", ok: true, reference: "ACK-1" } as ItemOutcome,
      attempt: 1,
      expected: { verdict: "sent", reference: "ACK-1" },
    },
    {
      what: "permanent failure → dead at once",
      outcome: {
        id: "1",
        ok: false,
        error: new AdapterError("HTTP 400", { failure: "permanent", reason: "http_400" }),
      } as ItemOutcome,
      attempt: 1,
      expected: { verdict: "dead", reason: "http_400" },
    },
    {
      what: "retriable with Retry-After → retry after it",
      outcome: {
        id: "1",
        ok: false,
        error: new AdapterError("HTTP 503", { failure: "retriable", reason: "http_503", retryAfterMs: 2000 }),
      } as ItemOutcome,
      attempt: 1,
      expected: { verdict: "retry", reason: "http_503", delayMs: 2000 },
    },
    {
      what: "retriable on the last attempt → dead",
      outcome: {
        id: "1",
        ok: false,
        error: new AdapterError("timeout", { failure: "retriable", reason: "timeout" }),
      } as ItemOutcome,
      attempt: 3,
      expected: { verdict: "dead", reason: "timeout" },
    },
    {
      what: "not attempted because an earlier record failed → again at once, attempt given back",
      outcome: {
        id: "1",
        ok: false,
        error: new AdapterError("not sent", { failure: "retriable", reason: NOT_ATTEMPTED }),
      } as ItemOutcome,
      attempt: 3,
      expected: { verdict: "retry", reason: NOT_ATTEMPTED, delayMs: 0, spent: false },
    },
  ])("$what", ({ outcome, attempt, expected }) => {
    const { verdicts } = verdictsForOutcomes([item("1", attempt)], [outcome], policy);
    expect(verdicts).toHaveLength(1);
    expect(verdicts[0]).toMatchObject({ id: "1", token: "t1", ...expected });
  });

  it("an item the adapter said nothing about is retried, never counted as sent", () => {
    const { verdicts } = verdictsForOutcomes([item("1"), item("2")], [{ id: "1", ok: true }], policy);
    expect(verdicts.map((v) => v.verdict)).toEqual(["sent", "retry"]);
    expect(verdicts[1]).toMatchObject({ reason: "no_outcome" });
  });

  it("an attention failure is reported so the connector can be held", () => {
    const error = new AdapterError("operation missing from the WSDL", {
      failure: "attention",
      reason: "unknown_operation",
    });
    const result = verdictsForOutcomes([item("1")], [{ id: "1", ok: false, error }], policy);
    expect(result.attention).toBe(error);
  });

  it("a failed drop batch shares one decision across its members", () => {
    const failure = new AdapterError("connection refused", {
      failure: "retriable",
      reason: "connection_refused",
      retryAfterMs: 1500,
    });
    const retry = verdictsForBatchFailure([item("1"), item("2")], failure, 1, policy);
    expect(retry).toMatchObject({ decision: "retry", delayMs: 1500 });
    expect(retry.verdicts.map((v) => v.verdict)).toEqual(["retry", "retry"]);
    const dead = verdictsForBatchFailure([item("1"), item("2")], failure, 3, policy);
    expect(dead.decision).toBe("dead");
    expect(dead.verdicts.map((v) => v.verdict)).toEqual(["dead", "dead"]);
  });

  it("a delivery retried for retry.maxAge is dead, saying why; one just short of it retries at the deadline", () => {
    const timeout = new AdapterError("timeout", { failure: "retriable", reason: "timeout" });
    const old = new Date(NOW.getTime() - 3_600_000);
    const [dead] = verdictsForOutcomes(
      [item("1", 2, old)],
      [{ id: "1", ok: false, error: timeout }],
      policy,
      NOW,
    ).verdicts;
    expect(dead).toMatchObject({ verdict: "dead", reason: "timeout" });
    expect(dead?.verdict === "dead" && dead.error).toBe("timeout (gave up: retry.maxAge 1h reached after 2 attempts)");
    const nearly = new Date(NOW.getTime() - 3_599_500);
    const [retry] = verdictsForOutcomes(
      [item("1", 2, nearly)],
      [{ id: "1", ok: false, error: timeout }],
      policy,
      NOW,
    ).verdicts;
    expect(retry).toMatchObject({ verdict: "retry", delayMs: 500 });
    // A drop batch counts from its earliest member's first attempt.
    const batch = verdictsForBatchFailure([item("1", 1, NOW), item("2", 1, old)], timeout, 1, policy, NOW);
    expect(batch.decision).toBe("dead");
  });
});

describe("an application event's own maxAttempts", () => {
  const failure = new AdapterError("HTTP 503", { failure: "retriable", reason: "http_503" });

  it.each([
    { eventMax: 1, attempt: 1, expected: "dead" },
    { eventMax: 2, attempt: 1, expected: "retry" },
    { eventMax: 2, attempt: 2, expected: "dead" },
    // It tightens the connector's policy only: a larger one does not extend it.
    { eventMax: 10, attempt: 3, expected: "dead" },
    { eventMax: null, attempt: 2, expected: "retry" },
  ])("maxAttempts $eventMax at attempt $attempt → $expected", ({ eventMax, attempt, expected }) => {
    const attempted = { ...item("1", attempt), maxAttempts: eventMax };
    const { verdicts } = verdictsForOutcomes([attempted], [{ id: "1", ok: false, error: failure }], policy, NOW);
    expect(verdicts[0]?.verdict).toBe(expected);
    const batch = verdictsForBatchFailure([attempted, item("2", attempt)], failure, attempt, policy, NOW);
    expect(batch.decision).toBe(expected);
  });
});
