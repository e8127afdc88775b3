// Classifies what the soap client rejected with: a SOAP Fault by its code, else the HTTP status, else the transport.
import { AdapterError } from "./adapter.js";
import { bodyExcerpt, classifyHttpStatus, classifyTransportError, parseRetryAfter } from "./http-failure.js";

export interface SoapFault {
  /** The fault code as sent, e.g. "soap:Client", "SOAP-ENV:Server", "env:Sender". */
  readonly code: string;
  readonly text: string;
}

/** The fault codes that say "this request is wrong" (SOAP 1.1 §4.4.1, SOAP 1.2 part 1 §5.4.6). */
const PERMANENT_FAULTS: Readonly<Record<string, string>> = {
  client: "soap_client_fault",
  sender: "soap_client_fault",
  versionmismatch: "soap_protocol_fault",
  mustunderstand: "soap_protocol_fault",
  dataencodingunknown: "soap_protocol_fault",
};

/** The fault codes that say "the partner failed; the same request may succeed later". */
const RETRIABLE_FAULTS: Readonly<Record<string, string>> = {
  server: "soap_server_fault",
  receiver: "soap_server_fault",
};

function text(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number") return String(value);
  // The parser yields { $value } when the element carries attributes (xml:lang on a Reason, for one).
  if (value && typeof value === "object" && "$value" in value) return text((value as { $value: unknown }).$value);
  return undefined;
}

function child(value: unknown, key: string): unknown {
  return value && typeof value === "object" ? (value as Record<string, unknown>)[key] : undefined;
}

/** The fault in a rejected call, read the way the soap package parses SOAP 1.1 and 1.2 envelopes. */
export function soapFaultOf(error: unknown): SoapFault | undefined {
  const fault = child(child(child(child(error, "root"), "Envelope"), "Body"), "Fault");
  if (!fault || typeof fault !== "object") return undefined;
  const code = text(child(fault, "faultcode")) ?? text(child(child(fault, "Code"), "Value")) ?? "";
  const message = text(child(fault, "faultstring")) ?? text(child(child(fault, "Reason"), "Text")) ?? "";
  return { code, text: message };
}

/**
 * The class of a fault code: Client/Sender (and the protocol faults) are permanent, Server/Receiver
 * and unknown codes retriable. Dotted SOAP 1.1 subcodes ("Client.Authentication") count as their head.
 */
export function classifyFaultCode(code: string): { failure: "retriable" | "permanent"; reason: string } {
  const local = (code.split(":").pop() ?? "").split(".")[0]?.toLowerCase() ?? "";
  const permanent = PERMANENT_FAULTS[local];
  if (permanent) return { failure: "permanent", reason: permanent };
  return { failure: "retriable", reason: RETRIABLE_FAULTS[local] ?? "soap_fault" };
}

export interface SoapErrorContext {
  readonly what: string;
  /** Values that must never be quoted back (the WS-Security password). */
  readonly secrets: readonly string[];
}

interface RejectedResponse {
  readonly status?: unknown;
  readonly headers?: unknown;
}

/** Turns whatever a soap call rejected with into a classified AdapterError. */
export function classifySoapError(error: unknown, context: SoapErrorContext): AdapterError {
  if (error instanceof AdapterError) return error;
  const response = child(error, "response") as RejectedResponse | undefined;
  const status = typeof response?.status === "number" ? response.status : undefined;
  const retryAfter = text(child(response?.headers, "retry-after"));
  const retryAfterMs = parseRetryAfter(retryAfter);
  const fault = soapFaultOf(error);
  if (fault) {
    const { failure, reason } = classifyFaultCode(fault.code);
    const quoted = bodyExcerpt(`${fault.code}: ${fault.text}`, context.secrets);
    const statusText = status === undefined ? "" : ` (HTTP ${status})`;
    return new AdapterError(`${context.what} returned a SOAP fault${statusText}: ${quoted}`, {
      failure,
      reason,
      retryAfterMs: failure === "retriable" ? retryAfterMs : undefined,
      cause: error,
    });
  }
  if (status !== undefined) {
    const body = text(child(error, "body")) ?? "";
    const excerpt = bodyExcerpt(body, context.secrets);
    const failure = classifyHttpStatus(status, { what: context.what, retryAfterMs, excerpt });
    if (failure) return failure;
    // A 2xx whose body is no SOAP answer: the partner may have applied it, and the token makes a resend safe.
    const message = error instanceof Error ? error.message : String(error);
    return new AdapterError(
      `${context.what} answered HTTP ${status} with an unreadable SOAP response (${bodyExcerpt(message, context.secrets)}): ${excerpt}`,
      { failure: "retriable", reason: "soap_bad_response", cause: error },
    );
  }
  return classifyTransportError(error, context.what);
}
