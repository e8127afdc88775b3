// The county scheduler for the demo: a SOAP server on 127.0.0.1 built from the connector's own WSDL
// (soap.listen) that checks the WS-Security UsernameToken and records every call.
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { listen } from "soap";
import { type PartnerListen, urlHost } from "./partner-listen.js";
import { soapField, soapText } from "./soap-header-fields.js";

export interface ReceivedSoapCall {
  readonly operation: string;
  /** The operation's arguments as the server parsed them (xsd:date arrives as a Date). */
  readonly args: Readonly<Record<string, unknown>>;
  readonly token: string | undefined;
  readonly correlationId: string | undefined;
  readonly username: string | undefined;
  /** What the partner answered: its confirmation id, or the fault it raised. */
  readonly answer: string;
}

export interface SoapPartnerOptions {
  readonly wsdlFile: string;
  readonly service: string;
  readonly port: string;
  readonly operation: string;
  readonly path: string;
  readonly username: string;
  /** Default: a fresh random password. */
  readonly password?: string;
  /** Where to listen (default 127.0.0.1, any free port). */
  readonly listen?: PartnerListen;
  /**
   * Told of every call. When given, calls are not kept in `calls` (a long-running partner would
   * grow without bound).
   */
  readonly onCall?: (call: ReceivedSoapCall) => void;
}

export interface SoapPartner {
  /** The service address (the connector's `endpoint`). */
  readonly url: string;
  readonly username: string;
  readonly password: string;
  readonly calls: readonly ReceivedSoapCall[];
  stop(): Promise<void>;
}

export async function startSoapPartner(options: SoapPartnerOptions): Promise<SoapPartner> {
  const wsdl = await readFile(options.wsdlFile, "utf8");
  const password = options.password ?? randomBytes(12).toString("base64url");
  const calls: ReceivedSoapCall[] = [];
  let answered = 0;
  const keep = (call: ReceivedSoapCall): void => {
    answered++;
    if (options.onCall) options.onCall(call);
    else calls.push(call);
  };
  const server = createServer();
  const operation = async (args: unknown, _callback: unknown, header: unknown) => {
    const security = soapField(header, "Security", "UsernameToken");
    const call = {
      operation: options.operation,
      args: (args ?? {}) as Record<string, unknown>,
      token: soapText(soapField(header, "IdempotencyToken")),
      correlationId: soapText(soapField(header, "CorrelationId")),
      username: soapText(soapField(security, "Username")),
    };
    if (call.username !== options.username || soapText(soapField(security, "Password")) !== password) {
      keep({ ...call, answer: "fault: authentication failed" });
      throw { Fault: { faultcode: "soap:Client", faultstring: "authentication failed", statusCode: 500 } };
    }
    const confirmation = `CS-${String(answered + 1).padStart(5, "0")}`;
    keep({ ...call, answer: confirmation });
    return { confirmation_id: confirmation, status: "RESCHEDULED" };
  };
  const services = { [options.service]: { [options.port]: { [options.operation]: operation } } };
  await new Promise<void>((resolve, reject) => {
    listen(server, {
      path: options.path,
      services,
      xml: wsdl,
      suppressStack: true,
      callback: (error: unknown) => (error ? reject(error) : resolve()),
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.listen?.port ?? 0, options.listen?.host ?? "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let stopped = false;
  return {
    url: `http://${urlHost(options.listen?.host ?? "127.0.0.1")}:${port}${options.path}`,
    username: options.username,
    password,
    calls,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
