// Pure rules of the SOAP adapter: fault codes, fault parsing as the soap package reports it, and the ESS header block.
import { describe, expect, it } from "vitest";
import { AdapterError } from "../../src/adapters/adapter.js";
import { classifyFaultCode, classifySoapError, soapFaultOf } from "../../src/adapters/soap-failure.js";
import { ESS_SOAP_NAMESPACE, escapeXml, essHeaderXml } from "../../src/adapters/soap-headers.js";

describe("classifyFaultCode", () => {
  it.each([
    "wsse:FailedAuthentication",
    "wsse:InvalidSecurityToken",
    "wsse:InvalidSecurity",
    "soap:Client.Authentication",
  ])("item 12: %s (an authentication fault) is an attention hold of the connector", (code) => {
    expect(classifyFaultCode(code)).toEqual({ failure: "attention", reason: "soap_auth_failed" });
  });

  it.each([
    ["soap:Client", "permanent", "soap_client_fault"],
    ["SOAP-ENV:Client", "permanent", "soap_client_fault"],
    ["Client", "permanent", "soap_client_fault"],
    ["env:Sender", "permanent", "soap_client_fault"],
    ["soap:VersionMismatch", "permanent", "soap_protocol_fault"],
    ["soap:MustUnderstand", "permanent", "soap_protocol_fault"],
    ["env:DataEncodingUnknown", "permanent", "soap_protocol_fault"],
    ["soap:Server", "retriable", "soap_server_fault"],
    ["SOAP-ENV:Server", "retriable", "soap_server_fault"],
    ["env:Receiver", "retriable", "soap_server_fault"],
    ["county:SchedulerBusy", "retriable", "soap_fault"],
    ["", "retriable", "soap_fault"],
  ])("%j → %s (%s)", (code, failure, reason) => {
    expect(classifyFaultCode(code)).toEqual({ failure, reason });
  });
});

/** What the soap client rejects with for a fault: the parsed envelope under `root`. */
function rejected(fault: unknown, status = 500, headers: Record<string, string> = {}) {
  return Object.assign(new Error("fault"), {
    root: { Envelope: { Body: { Fault: fault } } },
    response: { status, headers },
  });
}

describe("soapFaultOf", () => {
  it.each([
    ["SOAP 1.1", { faultcode: "soap:Client", faultstring: "bad family" }, { code: "soap:Client", text: "bad family" }],
    [
      "SOAP 1.1 with attributes",
      { faultcode: { $value: "soap:Server" }, faultstring: { $value: "down", attributes: { "xml:lang": "en" } } },
      { code: "soap:Server", text: "down" },
    ],
    [
      "SOAP 1.2",
      { Code: { Value: "env:Sender", Subcode: { Value: "m:BadDate" } }, Reason: { Text: "new_date is past" } },
      { code: "env:Sender", text: "new_date is past" },
    ],
  ])("%s", (_label, fault, expected) => {
    expect(soapFaultOf(rejected(fault))).toEqual(expected);
  });

  it("finds none in a transport error", () => {
    expect(soapFaultOf(new Error("connect ECONNREFUSED"))).toBeUndefined();
  });
});

describe("classifySoapError", () => {
  const context = { what: "SOAP Reschedule", secrets: ["hunter2!"] };

  it.each([
    ["Client fault", rejected({ faultcode: "soap:Client", faultstring: "no" }), "permanent", "soap_client_fault"],
    ["Server fault", rejected({ faultcode: "soap:Server", faultstring: "db" }), "retriable", "soap_server_fault"],
    [
      "fault with HTTP 200",
      rejected({ faultcode: "soap:Client", faultstring: "x" }, 200),
      "permanent",
      "soap_client_fault",
    ],
    [
      "503 without fault",
      Object.assign(new Error("Error http status codes"), { response: { status: 503, headers: {} }, body: "down" }),
      "retriable",
      "http_503",
    ],
    [
      "404 without fault",
      Object.assign(new Error("Cannot parse response"), { response: { status: 404, headers: {} }, body: "nope" }),
      "permanent",
      "http_404",
    ],
    [
      "200 with an unreadable body",
      Object.assign(new Error("Cannot parse response"), { response: { status: 200, headers: {} }, body: "<html/>" }),
      "retriable",
      "soap_bad_response",
    ],
    [
      "connection refused",
      Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
      "retriable",
      "connection_refused",
    ],
  ])("%s → %s %s", (_label, error, failure, reason) => {
    const classified = classifySoapError(error, context);
    expect(classified).toBeInstanceOf(AdapterError);
    expect(classified.failure).toBe(failure);
    expect(classified.reason).toBe(reason);
  });

  it("keeps Retry-After on a retriable fault and quotes the fault without secrets", () => {
    const error = rejected({ faultcode: "soap:Server", faultstring: "login hunter2! rejected upstream" }, 503, {
      "retry-after": "30",
    });
    const classified = classifySoapError(error, context);
    expect(classified.retryAfterMs).toBe(30_000);
    expect(classified.message).toBe(
      "SOAP Reschedule returned a SOAP fault (HTTP 503): soap:Server: login *** rejected upstream",
    );
  });
});

describe("essHeaderXml", () => {
  it("puts the token and correlation id in the urn:hms-ess namespace, escaped", () => {
    expect(ESS_SOAP_NAMESPACE).toBe("urn:hms-ess");
    expect(essHeaderXml({ token: "tok<1>&", correlationId: `c"'1` })).toBe(
      '<ess:IdempotencyToken xmlns:ess="urn:hms-ess">tok&lt;1&gt;&amp;</ess:IdempotencyToken>' +
        '<ess:CorrelationId xmlns:ess="urn:hms-ess">c&quot;&apos;1</ess:CorrelationId>',
    );
  });

  it.each([
    ["plain", "plain"],
    ["a&b", "a&amp;b"],
    ["<x>", "&lt;x&gt;"],
    [`"'`, "&quot;&apos;"],
  ])("escapeXml(%j) → %j", (input, expected) => {
    expect(escapeXml(input)).toBe(expected);
  });
});
