// Writes connector and mapping YAML and secret files into an existing site's configuration directory.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { EssSite } from "../support/ess-site.js";
import type { SshServer } from "../support/sshd.js";

/** (Re)writes connectors/<name>.yaml: the next site.load() sees the new text. */
export async function writeConnector(site: EssSite, name: string, yaml: string): Promise<void> {
  await writeFile(join(site.dir, "connectors", `${name}.yaml`), yaml);
}

/** (Re)writes mappings/<name>.yaml. */
export async function writeMapping(site: EssSite, name: string, yaml: string): Promise<void> {
  await writeFile(join(site.dir, "mappings", `${name}.yaml`), yaml);
}

/** Stores a secret as a file readable only by us, for `${file:/path}` in a connector. */
export async function writeSecretFile(site: EssSite, name: string, secret: string): Promise<string> {
  const dir = join(site.dir, "secrets");
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, name);
  await writeFile(path, secret, { mode: 0o600 });
  return path;
}

export interface SftpConnectorOptions {
  readonly name: string;
  readonly server: SshServer;
  /** Path of the private key file (read through `${file:…}`). */
  readonly keyFile: string;
  /** The pinned fingerprint; the server's own when absent. */
  readonly hostKey?: string;
  readonly dir: string;
  readonly file: string;
  readonly mode: "file-per-batch" | "append";
  readonly tempSuffix?: string;
  readonly doneFile?: string;
  readonly encoding: string;
  /** Further top-level lines (batch, retry, heartbeat), short for tests. */
  readonly policy: readonly string[];
}

/** A connector in the SPEC's §3.2 shape pointing at the test sshd. */
export function sftpConnectorYaml(options: SftpConnectorOptions): string {
  const { server } = options;
  return [
    `name: ${options.name}`,
    "adapter: sftp",
    "sftp:",
    `  host: ${server.host}`,
    `  port: ${server.port}`,
    `  username: ${server.username}`,
    `  privateKey: \${file:${options.keyFile}}`,
    `  hostKey: "${options.hostKey ?? server.hostKey}"`,
    `  dir: ${options.dir}`,
    `  file: "${options.file}"`,
    `  mode: ${options.mode}`,
    ...(options.tempSuffix !== undefined ? [`  tempSuffix: ${options.tempSuffix}`] : []),
    ...(options.doneFile !== undefined ? [`  doneFile: "${options.doneFile}"`] : []),
    `encoding: ${options.encoding}`,
    ...options.policy,
    "",
  ].join("\n");
}
