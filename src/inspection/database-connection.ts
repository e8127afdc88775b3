// Opens a short-lived connection for the set-up checks, turning "cannot connect" into one typed error without credentials.
import pg from "pg";
import { redactUrl } from "../config/index.js";
import { primaryUrl, sourceHostUrls } from "../source/source-hosts.js";

export type DatabaseRole = "source" | "ledger";

/** The database could not be reached or refused the login: a runtime failure, not a configuration problem. */
export class DatabaseUnreachableError extends Error {
  override readonly name = "DatabaseUnreachableError";
  readonly database: DatabaseRole;
  readonly url: string;
  readonly code: string | undefined;
  constructor(options: {
    readonly database: DatabaseRole;
    /** The URL with its password hidden. */
    readonly url: string;
    /** SQLSTATE (28P01 bad password, 3D000 no such database) or the socket error code (ECONNREFUSED). */
    readonly code: string | undefined;
    readonly reason: string;
    readonly cause?: unknown;
  }) {
    super(
      `cannot connect to the ${options.database} database ${options.url}: ${options.reason}`,
      "cause" in options ? { cause: options.cause } : undefined,
    );
    this.database = options.database;
    this.url = options.url;
    this.code = options.code;
  }
}

const CONNECT_TIMEOUT_MS = 10_000;

export async function withDatabase<T>(
  database: DatabaseRole,
  url: string,
  work: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({
    // Several hosts: the one accepting writes (a host that does not answer counts as unreachable below).
    connectionString: await primaryUrl(url, CONNECT_TIMEOUT_MS).catch(() => sourceHostUrls(url)[0] ?? url),
    application_name: "essctl",
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  // A connection dropped while idle surfaces on the next query; without a listener it would crash the process.
  client.on("error", () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new DatabaseUnreachableError({
      database,
      url: redactUrl(url),
      code: codeOf(error),
      reason: redactUrl(reasonOf(error)),
      cause: error,
    });
  }
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") return code;
  const first = (error as { errors?: unknown[] }).errors?.[0];
  return first === undefined ? undefined : codeOf(first);
}

/** Node reports a refused "localhost" (tried over IPv6 and IPv4) as an AggregateError with an empty message. */
function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.message !== "") return error.message;
  const inner = (error as { errors?: unknown[] }).errors;
  if (inner && inner.length > 0) return inner.map(reasonOf).join("; ");
  return codeOf(error) ?? error.name;
}
