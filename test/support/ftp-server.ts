// Starts a real FTP server (npm ftp-srv) on a free loopback port: AUTH TLS with a fresh self-signed certificate, password login, a drop root.
import { X509Certificate } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FtpSrv } from "ftp-srv";
import { generate } from "selfsigned";
import { freePort } from "./free-port.js";

export interface TestCertificate {
  readonly key: string;
  readonly cert: string;
  /** SHA-256 fingerprint, 64 hex digits upper case. */
  readonly fingerprint: string;
}

/** A self-signed certificate for 127.0.0.1 (subjectAltName IP), valid for a day. */
export async function testCertificate(commonName = "127.0.0.1"): Promise<TestCertificate> {
  const now = Date.now();
  const pems = await generate([{ name: "commonName", value: commonName }], {
    keySize: 2048,
    notBeforeDate: new Date(now - 60_000),
    notAfterDate: new Date(now + 86_400_000),
    extensions: [
      { name: "basicConstraints", cA: true },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true, keyCertSign: true },
      { name: "extKeyUsage", serverAuth: true },
      { name: "subjectAltName", altNames: [{ type: 7, ip: commonName }] },
    ],
  });
  const fingerprint = new X509Certificate(pems.cert).fingerprint256.replaceAll(":", "");
  return { key: pems.private, cert: pems.cert, fingerprint };
}

export interface TestFtpServer {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly password: string;
  /** The server's certificate (undefined when started without TLS). */
  readonly certificate: TestCertificate | undefined;
  /** The directory the user sees as "/". */
  readonly root: string;
  /** Logins the server accepted, and those it refused (a password sent over plain FTP shows up here). */
  readonly logins: { readonly accepted: number; readonly refused: number };
  /** Whether each login arrived over TLS. */
  readonly loginsOverTls: boolean[];
  /** Drops every client connection, as a restarted partner service would. */
  dropConnections(): Promise<void>;
  close(): Promise<void>;
}

/** bunyan's interface, quiet: ftp-srv logs every command at info. */
const quiet = {
  child: () => quiet,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  fatal: () => undefined,
};

export async function startFtpServer(
  options: { readonly tls?: boolean; readonly certificate?: TestCertificate } = {},
): Promise<TestFtpServer> {
  const certificate = options.tls === false ? undefined : (options.certificate ?? (await testCertificate()));
  const root = await mkdtemp(join(tmpdir(), "ess-ftp-"));
  const port = await freePort();
  const pasv = await freePort();
  const username = "partner";
  const password = "s3cret-ftp";
  const signals = ["SIGTERM", "SIGINT", "SIGQUIT"] as const;
  const listening = signals.map((signal) => new Set(process.listeners(signal)));
  const server = new FtpSrv({
    url: `ftp://127.0.0.1:${port}`,
    pasv_url: "127.0.0.1",
    // ftp-srv probes ports upward from pasv_min for each passive connection.
    pasv_min: pasv,
    pasv_max: Math.min(65_535, pasv + 200),
    tls: certificate ? { key: certificate.key, cert: certificate.cert } : false,
    anonymous: false,
    log: quiet,
  });
  // ftp-srv makes every SIGTERM exit the process; the test runner decides that, not the server.
  signals.forEach((signal, i) => {
    for (const listener of process.listeners(signal)) if (!listening[i]?.has(listener)) process.off(signal, listener);
  });
  const logins = { accepted: 0, refused: 0 };
  const loginsOverTls: boolean[] = [];
  server.on("login", ({ connection, username: user, password: given }, resolve, reject) => {
    loginsOverTls.push(connection.secure);
    if (user === username && given === password) {
      logins.accepted++;
      resolve({ root });
    } else {
      logins.refused++;
      reject(new Error("invalid user name or password"));
    }
  });
  await server.listen();
  return {
    host: "127.0.0.1",
    port,
    username,
    password,
    certificate,
    root,
    logins,
    loginsOverTls,
    async dropConnections() {
      const open = (server as unknown as { connections: Record<string, unknown> }).connections;
      await Promise.all(Object.keys(open).map((id) => server.disconnectClient(id)));
    },
    async close() {
      await server.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}
