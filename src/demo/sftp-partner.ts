// The city hall's SFTP drop box for the demo: an SSH server on 127.0.0.1 (ssh2) with its own host
// key and password, serving one local directory, so the shipped sftp connector runs unchanged.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { AddressInfo } from "node:net";
import ssh2, { type Connection } from "ssh2";
import { serveSftpFiles } from "./sftp-file-service.js";

export interface SftpPartner {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly password: string;
  /** The host key fingerprint the connector pins, as `ssh-keygen -lf` prints it. */
  readonly hostKey: string;
  /** The local directory the client sees as "/". */
  readonly root: string;
  /** Connection and file errors seen by the server (a demo shows them rather than hiding them). */
  readonly errors: readonly string[];
  stop(): Promise<void>;
}

/** Serves `root` (which must exist) to `username` with a fresh password and host key. */
export async function startSftpPartner(root: string, username: string): Promise<SftpPartner> {
  const keys = ssh2.utils.generateKeyPairSync("ed25519");
  const password = randomBytes(12).toString("base64url");
  const errors: string[] = [];
  const clients = new Set<Connection>();
  const record = (error: unknown): void => {
    errors.push(error instanceof Error ? error.message : String(error));
  };
  const server = new ssh2.Server({ hostKeys: [keys.private] }, (client) => {
    clients.add(client);
    client.on("close", () => clients.delete(client));
    client.on("error", record);
    client.on("authentication", (context) => {
      if (context.method === "password" && context.username === username && same(context.password, password)) {
        context.accept();
      } else {
        context.reject(["password"]);
      }
    });
    client.on("ready", () => {
      client.on("session", (accept) => {
        const session = accept();
        session.on("sftp", (acceptSftp) => serveSftpFiles(acceptSftp(), root, record));
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let stopped = false;
  return {
    host: "127.0.0.1",
    port,
    username,
    password,
    hostKey: fingerprint(keys.public),
    root,
    errors,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const client of clients) client.end();
      await closed;
    },
  };
}

/** "ssh-ed25519 AAAA… comment" → "SHA256:<unpadded base64 of the key blob's digest>". */
function fingerprint(publicKey: string): string {
  const blob = Buffer.from(publicKey.split(" ")[1] ?? "", "base64");
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

function same(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
