// The city hall's SFTP drop box for the demo: an SSH server on 127.0.0.1 (ssh2) with its own host
// key and password, serving one local directory, so the shipped sftp connector runs unchanged.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { AddressInfo } from "node:net";
import ssh2, { type Connection } from "ssh2";
import type { PartnerListen } from "./partner-listen.js";
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

export interface SftpPartnerOptions {
  /** Where to listen (default 127.0.0.1, any free port). */
  readonly listen?: PartnerListen;
  /** Default: a fresh random password. */
  readonly password?: string;
  /** The host key, an OpenSSH private key; default: a fresh ed25519 key. */
  readonly hostKey?: string;
}

/** Serves `root` (which must exist) to `username` with the given or a fresh password and host key. */
export async function startSftpPartner(
  root: string,
  username: string,
  options: SftpPartnerOptions = {},
): Promise<SftpPartner> {
  const keys = options.hostKey ? keysFrom(options.hostKey) : freshKeyPair();
  const password = options.password ?? randomBytes(12).toString("base64url");
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
    server.listen(options.listen?.port ?? 0, options.listen?.host ?? "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let stopped = false;
  return {
    host: options.listen?.host ?? "127.0.0.1",
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

/** A new ed25519 host key in OpenSSH format, for a partner that keeps its key across restarts. */
export function generateHostKey(): string {
  return freshKeyPair().private;
}

/**
 * A new ed25519 key pair that ssh2 can read back. About one pair in 256 from generateKeyPairSync
 * cannot be (a public key starting with a zero byte loses it: mscdex/ssh2 issues 1390 and 1513),
 * and the partner then failed to start with "Malformed OpenSSH private key".
 */
function freshKeyPair(): { private: string; public: string } {
  for (;;) {
    const pair = ssh2.utils.generateKeyPairSync("ed25519");
    const readable = [pair.private, pair.public].every((key) => !(ssh2.utils.parseKey(key) instanceof Error));
    if (readable) return pair;
  }
}

/** The public half of a stored private host key, in the form generateKeyPairSync gives. */
function keysFrom(privateKey: string): { private: string; public: string } {
  const parsed = ssh2.utils.parseKey(privateKey);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key || key instanceof Error) throw new Error(`not an SSH private key: ${key?.message ?? "empty"}`);
  return { private: privateKey, public: `${key.type} ${key.getPublicSSH().toString("base64")}` };
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
