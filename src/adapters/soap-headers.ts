// The ESS SOAP header block: idempotency token and correlation id in the urn:hms-ess namespace.

/**
 * Namespace of the headers ESS adds to every SOAP request:
 *   <ess:IdempotencyToken xmlns:ess="urn:hms-ess">…</ess:IdempotencyToken>
 *   <ess:CorrelationId xmlns:ess="urn:hms-ess">…</ess:CorrelationId>
 * The token is the same on every resend of one change, so a partner can refuse a duplicate;
 * the correlation id is what the partner quotes back on the inbound lane.
 */
export const ESS_SOAP_NAMESPACE = "urn:hms-ess";

export interface EssSoapHeaders {
  readonly token: string;
  readonly correlationId: string;
}

const XML_ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
};

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => XML_ESCAPES[char] ?? char);
}

/** The header elements as XML, each declaring its namespace so it stands alone in any envelope. */
export function essHeaderXml(headers: EssSoapHeaders): string {
  const ns = `xmlns:ess="${ESS_SOAP_NAMESPACE}"`;
  return (
    `<ess:IdempotencyToken ${ns}>${escapeXml(headers.token)}</ess:IdempotencyToken>` +
    `<ess:CorrelationId ${ns}>${escapeXml(headers.correlationId)}</ess:CorrelationId>`
  );
}
