// Pure rules behind per-record adapters: Retry-After, status and transport classification, receipts, batch order.
import { describe, expect, it } from "vitest";
import { AdapterError, type DeliveryItem } from "../../src/adapters/adapter.js";
import { sendRecordsInOrder } from "../../src/adapters/http-batch.js";
import {
  bodyExcerpt,
  classifyHttpStatus,
  classifyTransportError,
  parseRetryAfter,
} from "../../src/adapters/http-failure.js";
import { describeAnswer, findReference } from "../../src/adapters/http-reference.js";

const NOW = new Date("2024-05-04T12:00:00Z");

describe("parseRetryAfter", () => {
  it.each([
    ["2", 2000],
    [" 120 ", 120_000],
    ["0", 0],
    ["Sat, 04 May 2024 12:00:30 GMT", 30_000],
    ["Saturday, 04-May-24 12:01:00 GMT", 60_000],
    ["Sat, 04 May 2024 11:00:00 GMT", 0],
    ["soon", undefined],
    ["Sun Nov  6 08:49:37 1994", 0],
    ["2024-05-04T12:00:30Z", undefined],
    ["-5", undefined],
    ["", undefined],
    [undefined, undefined],
    [null, undefined],
  ])("%j → %j ms", (header, expected) => {
    expect(parseRetryAfter(header, NOW)).toBe(expected);
  });
});

describe("classifyHttpStatus", () => {
  it.each([
    [200, undefined, undefined],
    [201, undefined, undefined],
    [204, undefined, undefined],
    [301, "permanent", "http_301"],
    [307, "permanent", "http_307"],
    [400, "permanent", "http_400"],
    [401, "permanent", "http_401"],
    [404, "permanent", "http_404"],
    [408, "retriable", "http_408"],
    [409, "permanent", "http_409"],
    [422, "permanent", "http_422"],
    [425, "retriable", "http_425"],
    [429, "retriable", "http_429"],
    [500, "retriable", "http_500"],
    [502, "retriable", "http_502"],
    [503, "retriable", "http_503"],
    [504, "retriable", "http_504"],
  ])("HTTP %i → %s", (status, failure, reason) => {
    const error = classifyHttpStatus(status, { what: "POST https://gis.example/api", excerpt: "nope" });
    expect(error?.failure).toBe(failure);
    expect(error?.reason).toBe(reason);
    if (error)
      expect(error.message).toBe(
        `POST https://gis.example/api answered HTTP ${status}: nope${status < 400 ? " (redirects are not followed; fix the connector's url)" : ""}`,
      );
  });

  it("keeps Retry-After on retriable statuses only", () => {
    expect(classifyHttpStatus(503, { what: "x", retryAfterMs: 2000 })?.retryAfterMs).toBe(2000);
    expect(classifyHttpStatus(400, { what: "x", retryAfterMs: 2000 })?.retryAfterMs).toBeUndefined();
  });
});

function coded(code: string, message = `connect ${code} 127.0.0.1:1`): Error {
  return Object.assign(new Error(message), { code });
}

describe("classifyTransportError", () => {
  it.each([
    ["fetch refused", new TypeError("fetch failed", { cause: coded("ECONNREFUSED") }), "connection_refused"],
    ["fetch reset", new TypeError("fetch failed", { cause: coded("ECONNRESET") }), "connection_reset"],
    ["undici socket", new TypeError("fetch failed", { cause: coded("UND_ERR_SOCKET") }), "connection_reset"],
    ["dns", new TypeError("fetch failed", { cause: coded("ENOTFOUND") }), "dns"],
    ["dns again", coded("EAI_AGAIN"), "dns"],
    [
      "happy eyeballs",
      new TypeError("fetch failed", { cause: new AggregateError([coded("ECONNREFUSED")], "all failed") }),
      "connection_refused",
    ],
    ["axios timeout", coded("ECONNABORTED", "timeout of 300ms exceeded"), "timeout"],
    ["socket timeout", coded("ETIMEDOUT"), "timeout"],
    ["abort signal timeout", new DOMException("The operation timed out.", "TimeoutError"), "timeout"],
    ["abort", new DOMException("This operation was aborted", "AbortError"), "aborted"],
    ["axios cancel", coded("ERR_CANCELED", "canceled"), "aborted"],
    ["self-signed", new TypeError("fetch failed", { cause: coded("DEPTH_ZERO_SELF_SIGNED_CERT") }), "tls"],
    ["host unreachable", coded("EHOSTUNREACH"), "unreachable"],
    ["unknown", new Error("something odd"), "network"],
    ["not an error", "a string", "network"],
  ])("%s → retriable %s", (_label, error, reason) => {
    const classified = classifyTransportError(error, "POST https://gis.example/api");
    expect(classified).toBeInstanceOf(AdapterError);
    expect(classified.failure).toBe("retriable");
    expect(classified.reason).toBe(reason);
    expect(classified.message.startsWith("POST https://gis.example/api failed: ")).toBe(true);
  });

  it("names the code when the message hides it", () => {
    const error = new TypeError("fetch failed", { cause: coded("ECONNREFUSED") });
    expect(classifyTransportError(error, "GET x").message).toBe("GET x failed: fetch failed (ECONNREFUSED)");
  });

  it("passes an AdapterError through unchanged", () => {
    const original = new AdapterError("already classified", { failure: "permanent", reason: "bad_payload" });
    expect(classifyTransportError(original, "x")).toBe(original);
  });
});

describe("bodyExcerpt", () => {
  it.each([
    ['{"error":"bad"}', [], 200, '{"error":"bad"}'],
    ["line one\n\n   line two\t", [], 200, "line one line two"],
    ["key=k-123456 and again k-123456", ["k-123456"], 200, "key=*** and again ***"],
    ["abcdefghij", [], 4, "abcd…"],
    ["secret", [""], 200, "secret"],
  ])("%j (secrets %j, max %i) → %j", (body, secrets, max, expected) => {
    expect(bodyExcerpt(body, secrets, max)).toBe(expected);
  });
});

describe("findReference", () => {
  it.each([
    [{ id: "G-1" }, "G-1"],
    [{ id: 42 }, "42"],
    [{ confirmation_id: "C-1", id: "row-9" }, "C-1"],
    [{ ConfirmationId: "C-2", status: "OK" }, "C-2"],
    [{ "reference-id": "R-3" }, "R-3"],
    [{ data: { receiptId: "R-4" } }, "R-4"],
    [{ status: "ok", RescheduleResult: { confirmationNumber: "N-5" } }, "N-5"],
    [{ id: "", messageId: "M-6" }, "M-6"],
    [{ status: "ok" }, undefined],
    [[{ id: "in-array" }], undefined],
    ["text", undefined],
    [null, undefined],
  ])("%j → %j", (answer, expected) => {
    expect(findReference(answer)).toBe(expected);
  });

  it("clips a long receipt", () => {
    expect(findReference({ id: "x".repeat(500) })).toHaveLength(201);
  });
});

describe("describeAnswer", () => {
  it.each([
    [{ status: "RESCHEDULED" }, '{"status":"RESCHEDULED"}'],
    ["ACCEPTED", "ACCEPTED"],
    [{}, undefined],
    [null, undefined],
    [undefined, undefined],
  ])("%j → %j", (answer, expected) => {
    expect(describeAnswer(answer)).toBe(expected);
  });
});

function item(n: number): DeliveryItem {
  return { id: String(n), token: `t${n}`, correlationId: `c${n}`, key: String(n), payload: Buffer.from("{}") };
}

describe("sendRecordsInOrder", () => {
  const script = (failures: Record<number, AdapterError | Error>) => {
    const sent: string[] = [];
    const send = async (record: DeliveryItem) => {
      sent.push(record.id);
      const failure = failures[Number(record.id)];
      if (failure) throw failure;
      return `ref-${record.id}`;
    };
    return { sent, send };
  };
  const permanent = new AdapterError("bad record", { failure: "permanent", reason: "http_400" });
  const retriable = new AdapterError("busy", { failure: "retriable", reason: "http_503", retryAfterMs: 5000 });
  const attention = new AdapterError("misconfigured", { failure: "attention", reason: "soap_unknown_operation" });
  const classify = (error: unknown) => new AdapterError(String(error), { failure: "retriable", reason: "network" });

  it.each([
    ["all accepted", {}, ["1", "2", "3"], ["ok", "ok", "ok"]],
    ["a permanent failure stops nothing", { 2: permanent }, ["1", "2", "3"], ["ok", "permanent", "ok"]],
    ["a retriable failure holds back the rest", { 2: retriable }, ["1", "2"], ["ok", "retriable", "retriable"]],
    ["an attention failure holds back the rest", { 1: attention }, ["1"], ["attention", "retriable", "retriable"]],
    ["an unclassified error is classified", { 1: new Error("boom") }, ["1"], ["retriable", "retriable", "retriable"]],
  ])("%s", async (_label, failures, expectedSent, expectedOutcomes) => {
    const { sent, send } = script(failures);
    const outcomes = await sendRecordsInOrder(
      [item(1), item(2), item(3)],
      new AbortController().signal,
      send,
      classify,
    );
    expect(sent).toEqual(expectedSent);
    expect(outcomes.map((outcome) => outcome.id)).toEqual(["1", "2", "3"]);
    expect(outcomes.map((outcome) => (outcome.ok ? "ok" : outcome.error.failure))).toEqual(expectedOutcomes);
  });

  it("held-back records carry the first failure's Retry-After and a not_attempted reason", async () => {
    const { send } = script({ 1: retriable });
    const outcomes = await sendRecordsInOrder([item(1), item(2)], new AbortController().signal, send, classify);
    const held = outcomes[1];
    expect(held?.ok).toBe(false);
    if (held && !held.ok) {
      expect(held.error.reason).toBe("not_attempted");
      expect(held.error.retryAfterMs).toBe(5000);
    }
    expect(outcomes[0]).toMatchObject({ ok: false, error: retriable });
  });

  it("accepted records carry the partner's reference", async () => {
    const { send } = script({});
    const outcomes = await sendRecordsInOrder([item(7)], new AbortController().signal, send, classify);
    expect(outcomes).toEqual([{ id: "7", ok: true, reference: "ref-7" }]);
  });
});
