// A REST partner for the fault tests: records each accepted change (with its Idempotency-Key) in
// arrival order, and can go down for a while with its open connections cut, then come back.
import { createServer, type Server } from "node:http";
import { freePort } from "../support/free-port.js";
import type { Reception } from "./partner-view.js";

export class RestPartner {
  readonly received: Reception[] = [];
  outages = 0;
  private server: Server | undefined;

  private constructor(readonly port: number) {}

  static async start(): Promise<RestPartner> {
    const partner = new RestPartner(await freePort());
    await partner.listen();
    return partner;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Stops listening and cuts every open session; comes back after `ms`. */
  async outage(ms: number): Promise<void> {
    this.outages++;
    await this.close();
    await new Promise((r) => setTimeout(r, ms));
    await this.listen();
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async listen(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        if (req.url === "/health") {
          res.writeHead(200).end("ok");
          return;
        }
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { id: string; seq: number | string };
          const token = String(req.headers["idempotency-key"] ?? "");
          this.received.push({ key: body.id, seq: Number(body.seq), token });
          res.writeHead(200, { "content-type": "application/json" }).end("{}");
        } catch {
          res.writeHead(400).end("bad body");
        }
      });
    });
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.server = server;
  }
}
