// A SOAP partner on 127.0.0.1 built with the soap package's listen() from a WSDL, recording every call it receives.
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { type ISoapFault11, listen } from "soap";
import { soapField, soapText } from "../../src/demo/soap-header-fields.js";
import { freePort } from "./free-port.js";

export interface ReceivedSoapCall {
  /** The operation's arguments as the server parsed them (xsd:date fields arrive as Date). */
  readonly args: Record<string, unknown>;
  /** The parsed soap:Header. */
  readonly header: Record<string, unknown>;
  readonly token?: string;
  readonly correlationId?: string;
  readonly username?: string;
  readonly password?: string;
  readonly passwordType?: string;
}

/** Answers a call: return the response object, or throw soapFault(...). */
export type SoapHandler = (call: ReceivedSoapCall, index: number) => unknown;

/** Handles a raw HTTP request before the SOAP server sees it; returns true when it answered. */
export type HttpInterceptor = (req: IncomingMessage, res: ServerResponse) => boolean;

export interface SoapServerOptions {
  readonly wsdlFile: string;
  readonly service: string;
  readonly port: string;
  readonly operation: string;
  readonly path?: string;
  readonly handler: SoapHandler;
}

export interface TestSoapServer {
  /** The service address (what a connector's `endpoint` points at). */
  readonly url: string;
  readonly wsdlUrl: string;
  readonly calls: ReceivedSoapCall[];
  handle(handler: SoapHandler): void;
  intercept(interceptor: HttpInterceptor | undefined): void;
  stop(): Promise<void>;
}

/** A SOAP 1.1 fault, sent with HTTP 500 as SOAP 1.1 §6.2 requires. */
export function soapFault(code: "Client" | "Server" | string, text: string): { Fault: ISoapFault11 } {
  return { Fault: { faultcode: code.includes(":") ? code : `soap:${code}`, faultstring: text, statusCode: 500 } };
}

function receivedCall(args: unknown, header: unknown): ReceivedSoapCall {
  const token = soapField(header, "Security", "UsernameToken");
  return {
    args: (args ?? {}) as Record<string, unknown>,
    header: (header ?? {}) as Record<string, unknown>,
    token: soapText(soapField(header, "IdempotencyToken")),
    correlationId: soapText(soapField(header, "CorrelationId")),
    username: soapText(soapField(token, "Username")),
    password: soapText(soapField(token, "Password")),
    passwordType: soapText(soapField(token, "Password", "attributes", "Type")),
  };
}

export async function startSoapServer(options: SoapServerOptions): Promise<TestSoapServer> {
  const wsdl = await readFile(options.wsdlFile, "utf8");
  const path = options.path ?? "/soap/scheduler";
  const calls: ReceivedSoapCall[] = [];
  let handler = options.handler;
  let interceptor: HttpInterceptor | undefined;
  const server = createServer();
  const operation = async (args: unknown, _callback: unknown, header: unknown) => {
    const call = receivedCall(args, header);
    calls.push(call);
    return await handler(call, calls.length - 1);
  };
  const services = { [options.service]: { [options.port]: { [options.operation]: operation } } };
  await new Promise<void>((resolve, reject) => {
    listen(server, { path, services, xml: wsdl, callback: (error: unknown) => (error ? reject(error) : resolve()) });
  });
  // soap.listen installed its own request listener; put the interceptor in front of it.
  const soapListeners = server.listeners("request") as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners("request");
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    if (interceptor?.(req, res)) return;
    for (const listener of soapListeners) listener.call(server, req, res);
  });
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const url = `http://127.0.0.1:${port}${path}`;
  let stopped = false;
  return {
    url,
    wsdlUrl: `${url}?wsdl`,
    calls,
    handle: (next) => {
      handler = next;
    },
    intercept: (next) => {
      interceptor = next;
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
