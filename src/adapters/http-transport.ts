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
  /** The answer's text, at most ANSWER_BODY_LIMIT bytes of it. */
  readonly body: string;
  /** The partner sent more than ANSWER_BODY_LIMIT bytes: the rest was not read. */
  readonly truncated: boolean;
}

/**
 * The most of a partner's answer that is read. Verdicts come from the status code and a few
 * fields; a partner (or anyone in its place) answering with gigabytes must not fill the heap.
 */
export const ANSWER_BODY_LIMIT = 4 * 1024 * 1024;

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
  const { body, truncated } =
    call.method === "HEAD" || response.body === null
      ? { body: "", truncated: false }
      : await readLimited(response.body, call.signal);
  return {
    status: response.status,
    header: (name) => response.headers.get(name) ?? undefined,
    body,
    truncated,
  };
}

async function readLimited(
  stream: ReadableStream<Uint8Array>,
  signal: AbortSignal,
): Promise<{ body: string; truncated: boolean }> {
  const collected = new BodyCollector();
  const reader = stream.getReader();
  try {
    for (;;) {
      signal.throwIfAborted();
      const { done, value } = await reader.read();
      if (done) break;
      if (!collected.add(value)) {
        await reader.cancel().catch(() => undefined);
        break;
      }
    }
  } finally {
    reader.releaseLock();
  }
  return collected.result();
}

/** Chunks of an answer up to the limit; add() says whether to read on. */
class BodyCollector {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private cut = false;

  add(chunk: Uint8Array): boolean {
    const room = ANSWER_BODY_LIMIT - this.size;
    const buffer = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.chunks.push(buffer.length > room ? buffer.subarray(0, room) : buffer);
    this.size += Math.min(buffer.length, room);
    if (buffer.length > room) this.cut = true;
    return !this.cut;
  }

  result(): { body: string; truncated: boolean } {
    return { body: Buffer.concat(this.chunks).toString("utf8"), truncated: this.cut };
  }
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
        const collected = new BodyCollector();
        const finish = () => {
          const headers = res.headers;
          resolve({
            status: res.statusCode ?? 0,
            header: (name) => {
              const value = headers[name.toLowerCase()];
              return Array.isArray(value) ? value.join(", ") : value;
            },
            ...collected.result(),
          });
        };
        res.on("data", (chunk: Buffer) => {
          if (collected.add(chunk)) return;
          res.destroy();
          finish();
        });
        res.on("error", reject);
        res.on("end", finish);
      },
    );
    req.on("error", reject);
    req.end(call.body);
  });
}
