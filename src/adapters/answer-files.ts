// Where partners leave answer files: a local (or mounted) directory, or the partner's SFTP server
// under the connector's pinned host key. Lists, reads and moves files; knows nothing of their content.
import { mkdir, readdir, readFile, rename, stat } from "node:fs/promises";
import { join, posix } from "node:path";
import SftpClient from "ssh2-sftp-client";
import type { SftpOptions } from "../config/types.js";
import { hostKeyFingerprint, hostKeyMatches, parseHostKeyPin } from "./host-key.js";

export interface AnswerFileStore {
  /** Names of the files in the directory matching the pattern, oldest name first. */
  list(): Promise<string[]>;
  read(name: string): Promise<Buffer>;
  /** Moves a processed file into the done directory; returns the name it got there. */
  moveToDone(name: string, checksum: string): Promise<string>;
  close(): Promise<void>;
}

export class AnswerFileError extends Error {
  override readonly name = "AnswerFileError";
  readonly connector: string;
  readonly operation: "list" | "read" | "move" | "connect";
  readonly path: string;
  constructor(
    message: string,
    options: {
      readonly connector: string;
      readonly operation: "list" | "read" | "move" | "connect";
      readonly path: string;
      readonly cause?: unknown;
    },
  ) {
    super(
      `${options.connector}: answer files: ${options.operation} ${options.path}: ${message}`,
      "cause" in options ? { cause: options.cause } : undefined,
    );
    this.connector = options.connector;
    this.operation = options.operation;
    this.path = options.path;
  }
}

/** `ack_*.txt` → a whole-name regular expression (`*` any characters, `?` one). */
export function filePattern(pattern: string): RegExp {
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${escaped}$`);
}

/** A file already in done/ under this name (the partner reused a name) keeps both: the newer gets its checksum. */
function doneName(name: string, checksum: string, taken: boolean): string {
  return taken ? `${name}.${checksum.slice(0, 12)}` : name;
}

export class LocalAnswerFiles implements AnswerFileStore {
  private readonly pattern: RegExp;
  constructor(
    private readonly connector: string,
    private readonly dir: string,
    pattern: string,
    private readonly done: string,
  ) {
    this.pattern = filePattern(pattern);
  }

  async list(): Promise<string[]> {
    try {
      const entries = await readdir(this.dir, { withFileTypes: true });
      return entries
        .filter((e) => e.isFile() && this.pattern.test(e.name))
        .map((e) => e.name)
        .sort();
    } catch (error) {
      throw new AnswerFileError((error as Error).message, {
        connector: this.connector,
        operation: "list",
        path: this.dir,
        cause: error,
      });
    }
  }

  async read(name: string): Promise<Buffer> {
    return readFile(join(this.dir, name));
  }

  async moveToDone(name: string, checksum: string): Promise<string> {
    await mkdir(this.done, { recursive: true });
    const taken = await stat(join(this.done, name)).then(
      () => true,
      () => false,
    );
    const target = doneName(name, checksum, taken);
    await rename(join(this.dir, name), join(this.done, target));
    return target;
  }

  async close(): Promise<void> {}
}

export class SftpAnswerFiles implements AnswerFileStore {
  private readonly pattern: RegExp;
  private client: SftpClient | undefined;

  constructor(
    private readonly connector: string,
    private readonly options: SftpOptions,
    private readonly dir: string,
    pattern: string,
    private readonly done: string,
  ) {
    this.pattern = filePattern(pattern);
  }

  async list(): Promise<string[]> {
    const client = await this.connect();
    try {
      const entries = await client.list(this.dir);
      return entries
        .filter((e) => e.type === "-" && this.pattern.test(e.name))
        .map((e) => e.name)
        .sort();
    } catch (error) {
      await this.drop();
      throw new AnswerFileError((error as Error).message, {
        connector: this.connector,
        operation: "list",
        path: this.dir,
        cause: error,
      });
    }
  }

  async read(name: string): Promise<Buffer> {
    const client = await this.connect();
    const path = posix.join(this.dir, name);
    try {
      return (await client.get(path)) as Buffer;
    } catch (error) {
      await this.drop();
      throw new AnswerFileError((error as Error).message, {
        connector: this.connector,
        operation: "read",
        path,
        cause: error,
      });
    }
  }

  async moveToDone(name: string, checksum: string): Promise<string> {
    const client = await this.connect();
    const path = posix.join(this.dir, name);
    try {
      if (!(await client.exists(this.done))) await client.mkdir(this.done, true);
      const taken = (await client.exists(posix.join(this.done, name))) !== false;
      const target = doneName(name, checksum, taken);
      await client.rename(path, posix.join(this.done, target));
      return target;
    } catch (error) {
      await this.drop();
      throw new AnswerFileError((error as Error).message, {
        connector: this.connector,
        operation: "move",
        path,
        cause: error,
      });
    }
  }

  async close(): Promise<void> {
    await this.drop();
  }

  private async drop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<SftpClient> {
    if (this.client) return this.client;
    const { host, port, username, privateKey, passphrase, password } = this.options;
    const pin = parseHostKeyPin(this.options.hostKey);
    let refused: string | undefined;
    const client = new SftpClient(`ess-pull:${this.connector}`);
    try {
      await client.connect({
        host,
        port,
        username,
        ...(privateKey !== undefined ? { privateKey } : {}),
        ...(passphrase !== undefined ? { passphrase } : {}),
        ...(password !== undefined ? { password } : {}),
        readyTimeout: 20_000,
        hostVerifier: (key: Buffer) => {
          if (hostKeyMatches(key, pin)) return true;
          refused = hostKeyFingerprint(key);
          return false;
        },
      });
    } catch (error) {
      await client.end().catch(() => undefined);
      const why = refused
        ? `the server's host key ${refused} does not match the pinned ${pin}`
        : (error as Error).message;
      throw new AnswerFileError(why, {
        connector: this.connector,
        operation: "connect",
        path: `${host}:${port}`,
        cause: error,
      });
    }
    this.client = client;
    return client;
  }
}
