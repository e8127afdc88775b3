// Formats what each demo partner received (drop files, SOAP calls, REST requests) and the retries the ledger recorded.
import type { RetriedDelivery } from "../ledger/delivery-history.js";
import { type DropLayout, readReceivedFiles } from "./received-files.js";
import type { ReceivedRestRequest } from "./rest-partner.js";
import type { ReceivedSoapCall } from "./soap-partner.js";

export interface DropPartnerView {
  readonly connector: string;
  /** "SFTP 127.0.0.1:2222 /IN" or "directory /tmp/…/payroll". */
  readonly where: string;
  /** "cp037 fixed-width, CRLF records", "utf-8 csv"… */
  readonly what: string;
  readonly localDir: string;
  readonly layout: DropLayout;
}

export interface PartnerReport {
  readonly drops: readonly DropPartnerView[];
  readonly soap: { readonly connector: string; readonly calls: readonly ReceivedSoapCall[] };
  readonly rest: { readonly connector: string; readonly requests: readonly ReceivedRestRequest[] };
  readonly retried: readonly RetriedDelivery[];
}

const INDENT = "  ";

export async function partnerReportLines(report: PartnerReport): Promise<string[]> {
  const lines: string[] = [];
  for (const drop of report.drops) {
    lines.push(`${drop.connector} (${drop.where}; ${drop.what})`);
    const files = await readReceivedFiles(drop.localDir, drop.layout);
    if (files.length === 0) lines.push(`${INDENT}(no files)`);
    for (const file of files) {
      lines.push(`${INDENT}${file.name}  ${file.bytes} bytes${file.trigger ? ", trigger file" : ""}`);
      for (const line of file.lines) lines.push(`${INDENT}${INDENT}| ${line}`);
    }
  }
  lines.push(`${report.soap.connector} (SOAP calls received)`);
  if (report.soap.calls.length === 0) lines.push(`${INDENT}(no calls)`);
  for (const call of report.soap.calls) {
    const args = Object.entries(call.args)
      .map(([name, value]) => `${name}=${displayValue(value)}`)
      .join(" ");
    lines.push(
      `${INDENT}${call.operation}(${args})  WS-Security user ${call.username ?? "-"}, IdempotencyToken ${short(call.token)}  -> ${call.answer}`,
    );
  }
  lines.push(`${report.rest.connector} (REST requests received)`);
  if (report.rest.requests.length === 0) lines.push(`${INDENT}(no requests)`);
  for (const request of report.rest.requests) {
    lines.push(
      `${INDENT}${request.method} ${request.path} ${request.body}  Idempotency-Key ${short(request.idempotencyKey)}  -> HTTP ${request.status}`,
    );
  }
  if (report.retried.length > 0) {
    lines.push("Retries (from the ledger's audit trail)");
    for (const delivery of report.retried) {
      const failures = delivery.failures.map(
        (f) => `attempt ${f.attempt ?? "?"} failed: ${f.error ?? "no reason recorded"}`,
      );
      lines.push(
        `${INDENT}${delivery.connector} ${delivery.key}: ${failures.join("; ")}; ${delivery.state} on attempt ${delivery.attempts}` +
          ` with the same token ${short(delivery.token)}${delivery.reference ? ` (partner receipt ${delivery.reference})` : ""}`,
      );
    }
  }
  return lines;
}

/** Tokens are long hashes; their first characters are enough to match them across lines. */
function short(token: string | undefined): string {
  if (!token) return "-";
  return token.length > 16 ? `${token.slice(0, 16)}…` : token;
}

/** xsd:date arguments arrive as Date objects at midnight UTC. */
function displayValue(value: unknown): string {
  if (value instanceof Date) {
    const iso = value.toISOString();
    return iso.endsWith("T00:00:00.000Z") ? iso.slice(0, 10) : iso;
  }
  return typeof value === "object" && value !== null ? JSON.stringify(value) : String(value);
}
