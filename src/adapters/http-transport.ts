// One HTTP exchange with a partner: Node's fetch, or node:https when an extra CA must be trusted.
import { request as httpsRequest } from "node:https";
import { rootCertificates } from "node:tls";

export interface HttpCall {
  readonly method: "GET" | "HEAD" | "POST" | "PUT" | "PATCH";
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Buffer;
  readonly signal: AbortSignal;
  /** Extra CA certificates (PEM) trusted besides the system's; verification stays on either way. */
  readonly ca?: string;
}

export interface HttpReply {
  readonly status: number;
  /** A response header by case-insensitive name. */
  header(name: string): string | undefined;
  readonly body: string;
}

/** Sends one request and reads the whole answer. Redirects are returned, never followed. */
export async function callHttp(call: HttpCall): Promise<HttpReply> {
  if (call.ca !== undefined && new URL(call.url).protocol === "https:") return await callHttps(call, call.ca);
  const response = await fetch(call.url, {
    method: call.method,
    headers: call.headers,
    body: call.body,
    signal: call.signal,
    redirect: "manual",
  });
  const body = call.method === "HEAD" ? "" : await response.text();
  return {
    status: response.status,
    header: (name) => response.headers.get(name) ?? undefined,
    body,
  };
}

// Node 20's fetch cannot take a CA (its undici is bundled, not exported), so this path uses node:https.
async function callHttps(call: HttpCall, ca: string): Promise<HttpReply> {
  return await new Promise<HttpReply>((resolve, reject) => {
    const req = httpsRequest(
      call.url,
      {
        method: call.method,
        headers: call.headers,
        ca: [...rootCertificates, ca],
        signal: call.signal,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", reject);
        res.on("end", () => {
          const headers = res.headers;
          resolve({
            status: res.statusCode ?? 0,
            header: (name) => {
              const value = headers[name.toLowerCase()];
              return Array.isArray(value) ? value.join(", ") : value;
            },
            body: Buffer.concat(chunks).toString("utf8"),
          });
        });
      },
    );
    req.on("error", reject);
    req.end(call.body);
  });
}
