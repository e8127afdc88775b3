import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { authenticateInbound, inboundSignature, SignatureReplayGuard } from "../../src/ops/inbound-auth.js";
import { parseCallback } from "../../src/ops/inbound-callback.js";

const SECRET = "shared-hmac-secret-of-the-county";
const TOKEN = "county-callback-bearer-token";
const body = Buffer.from('{"correlationId":"ess-0123456789abcdef01234567","status":"applied"}');
const NOW_MS = 1_790_000_000_000;
const TS = String(NOW_MS / 1000);
const goodSignature = `sha256=${createHmac("sha256", SECRET).update(`${TS}.`).update(body).digest("hex")}`;

describe("inbound authentication", () => {
  it("signs like any HMAC-SHA256 library (what a partner computes): the timestamp, a dot, then the body", () => {
    expect(inboundSignature(body, SECRET, TS)).toBe(goodSignature);
  });

  it.each([
    {
      name: "a correct HMAC signature",
      auth: { hmacSecret: SECRET },
      sig: goodSignature,
      bearer: undefined,
      ok: "hmac",
    },
    {
      name: "an upper-case hex signature",
      auth: { hmacSecret: SECRET },
      sig: goodSignature.toUpperCase().replace("SHA256", "sha256"),
      bearer: undefined,
      ok: "hmac",
    },
    {
      name: "a correct bearer token",
      auth: { bearerToken: TOKEN },
      sig: undefined,
      bearer: `Bearer ${TOKEN}`,
      ok: "bearer",
    },
    {
      name: "either method when both are configured",
      auth: { hmacSecret: SECRET, bearerToken: TOKEN },
      sig: undefined,
      bearer: `bearer ${TOKEN}`,
      ok: "bearer",
    },
    { name: "no credentials", auth: { hmacSecret: SECRET }, sig: undefined, bearer: undefined, fail: "missing" },
    {
      name: "a signature over another body",
      auth: { hmacSecret: SECRET },
      sig: inboundSignature("{}", SECRET, TS),
      bearer: undefined,
      fail: "invalid",
    },
    {
      name: "a signature with another secret",
      auth: { hmacSecret: SECRET },
      sig: inboundSignature(body, "guess", TS),
      bearer: undefined,
      fail: "invalid",
    },
    {
      name: "a truncated signature",
      auth: { hmacSecret: SECRET },
      sig: goodSignature.slice(0, -2),
      bearer: undefined,
      fail: "invalid",
    },
    {
      name: "a signature without its sha256= prefix",
      auth: { hmacSecret: SECRET },
      sig: goodSignature.slice(7),
      bearer: undefined,
      fail: "invalid",
    },
    {
      name: "a wrong bearer token",
      auth: { bearerToken: TOKEN },
      sig: undefined,
      bearer: `Bearer ${TOKEN}x`,
      fail: "invalid",
    },
    {
      name: "a token sent as Basic",
      auth: { bearerToken: TOKEN },
      sig: undefined,
      bearer: `Basic ${TOKEN}`,
      fail: "missing",
    },
    {
      name: "a bearer token where only HMAC is configured",
      auth: { hmacSecret: SECRET },
      sig: undefined,
      bearer: `Bearer ${TOKEN}`,
      fail: "missing",
    },
    {
      name: "a good token with a bad signature",
      auth: { hmacSecret: SECRET, bearerToken: TOKEN },
      sig: inboundSignature("x", SECRET, TS),
      bearer: `Bearer ${TOKEN}`,
      fail: "invalid",
    },
  ])("$name", ({ auth, sig, bearer, ok, fail }) => {
    const result = authenticateInbound(auth, { signature: sig, timestamp: TS, authorization: bearer }, body, {
      nowMs: NOW_MS,
    });
    expect(result).toEqual(ok ? { ok: true, method: ok } : { ok: false, reason: fail });
  });

  it.each([
    { name: "a signature without its timestamp", timestamp: undefined, nowMs: NOW_MS, reason: "no_timestamp" },
    {
      name: "a timestamp the signature does not cover",
      timestamp: String(NOW_MS / 1000 + 1),
      nowMs: NOW_MS,
      reason: "invalid",
    },
    { name: "a timestamp that is no number", timestamp: "yesterday", nowMs: NOW_MS, reason: "invalid" },
    { name: "a signature older than the window", timestamp: TS, nowMs: NOW_MS + 5 * 60_000 + 1000, reason: "stale" },
    {
      name: "a signature from the future beyond the window",
      timestamp: TS,
      nowMs: NOW_MS - 5 * 60_000 - 1000,
      reason: "stale",
    },
  ])("item 9: refuses $name", ({ timestamp, nowMs, reason }) => {
    const result = authenticateInbound({ hmacSecret: SECRET }, { signature: goodSignature, timestamp }, body, {
      nowMs,
    });
    expect(result).toEqual({ ok: false, reason });
  });

  it("item 9: accepts a signature inside a configured tolerance, and each signature only once", () => {
    const replay = new SignatureReplayGuard();
    const auth = { hmacSecret: SECRET, toleranceMs: 60_000 };
    const presented = { signature: goodSignature, timestamp: TS };
    expect(authenticateInbound(auth, presented, body, { nowMs: NOW_MS + 59_000, replay })).toEqual({
      ok: true,
      method: "hmac",
    });
    expect(authenticateInbound(auth, presented, body, { nowMs: NOW_MS + 59_500, replay })).toEqual({
      ok: false,
      reason: "replayed",
    });
    expect(authenticateInbound(auth, presented, body, { nowMs: NOW_MS + 61_000, replay })).toEqual({
      ok: false,
      reason: "stale",
    });
  });
});

describe("inbound callback bodies", () => {
  it.each([
    { name: "correlationId", text: '{"correlationId":"ess-abc","status":"accepted"}', correlation: "ess-abc" },
    { name: "correlation_id", text: '{"correlation_id":"ess-abc"}', correlation: "ess-abc" },
    { name: "token", text: '{"token":"ess1-0123"}', correlation: "ess1-0123" },
    { name: "idempotencyKey", text: '{"idempotencyKey":"ess1-0123"}', correlation: "ess1-0123" },
    {
      name: "correlationId before token",
      text: '{"token":"ess1-0123","correlationId":"ess-abc"}',
      correlation: "ess-abc",
    },
  ])("finds the delivery by $name", ({ text, correlation }) => {
    const parsed = parseCallback(Buffer.from(text));
    expect(parsed).toMatchObject({ ok: true, correlation });
  });

  it.each([
    { text: '{"token":"t1"}', status: "accepted", reference: null, message: null },
    {
      text: '{"token":"t1","status":"Accepted","reference":"R-1"}',
      status: "accepted",
      reference: "R-1",
      message: null,
    },
    {
      text: '{"token":"t1","status":"rejected","ref":42,"reason":"no such parcel"}',
      status: "rejected",
      reference: "42",
      message: "no such parcel",
    },
  ])("reads the verdict, reference and message of $text", ({ text, status, reference, message }) => {
    expect(parseCallback(Buffer.from(text))).toMatchObject({ ok: true, status, reference, message });
  });

  it.each([
    { name: "a status that is no verdict", text: '{"token":"t1","status":"ok"}', reason: /accepted.*rejected/ },
    { name: "a status that is not text", text: '{"token":"t1","status":1}', reason: /accepted.*rejected/ },
    { name: "a message that is not text", text: '{"token":"t1","message":{"a":1}}', reason: /text or numbers/ },
  ])("refuses $name", ({ text, reason }) => {
    const parsed = parseCallback(Buffer.from(text));
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? "" : parsed.reason).toMatch(reason);
  });

  it.each([
    { name: "not JSON", text: "correlationId=ess-abc", reason: /not JSON/ },
    { name: "a JSON array", text: '["ess-abc"]', reason: /JSON object/ },
    { name: "JSON null", text: "null", reason: /JSON object/ },
    { name: "no correlation field", text: '{"status":"applied"}', reason: /names no delivery/ },
    { name: "a numeric correlation id", text: '{"correlationId":42}', reason: /correlationId must be/ },
    { name: "an empty correlation id", text: '{"correlationId":""}', reason: /correlationId must be/ },
    { name: "a correlation id with control characters", text: '{"token":"ess1-\\u0000x"}', reason: /token must be/ },
  ])("rejects $name", ({ text, reason }) => {
    const parsed = parseCallback(Buffer.from(text));
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toMatch(reason);
  });

  it("rejects a body that is not UTF-8", () => {
    expect(parseCallback(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]))).toEqual({
      ok: false,
      reason: "the body is not UTF-8 text",
    });
  });
});
