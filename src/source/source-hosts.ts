// A source given as several hosts (libpq's postgres://user@host1:5432,host2:5432/db): node-postgres
// takes one host per connection, so ESS tries each in turn and keeps the one that answers
// pg_is_in_recovery() = false, as libpq's target_session_attrs=read-write does.
import pg from "pg";
import { hasSeveralHosts, sourceHostUrls } from "../config/database-hosts.js";

export { hasSeveralHosts, sourceHostUrls };

/** No host answered as a primary: each host's answer, without credentials. */
export class NoPrimaryError extends Error {
  override readonly name = "NoPrimaryError";
  constructor(readonly answers: readonly { readonly host: string; readonly answer: string }[]) {
    super(
      `none of the source hosts is a primary accepting writes: ${answers.map((a) => `${a.host}: ${a.answer}`).join("; ")}`,
    );
    // Transient for the reconnect loop: a promotion in progress ends in a primary.
    (this as { code?: string }).code = "08001";
  }
}

export interface HostRole {
  readonly url: string;
  readonly host: string;
  /** null when the host did not answer. */
  readonly inRecovery: boolean | null;
  readonly error?: string;
}

/** Asks every host whether it is in recovery (a standby) or not (the primary). */
export async function hostRoles(url: string, timeoutMs = 5_000): Promise<HostRole[]> {
  return Promise.all(
    sourceHostUrls(url).map(async (hostUrl): Promise<HostRole> => {
      const host = hostOf(hostUrl);
      const client = new pg.Client({
        connectionString: hostUrl,
        application_name: "ess-host-probe",
        connectionTimeoutMillis: timeoutMs,
      });
      client.on("error", () => undefined);
      try {
        await client.connect();
        const result = await client.query<{ standby: boolean }>("select pg_is_in_recovery() as standby");
        return { url: hostUrl, host, inRecovery: result.rows[0]?.standby ?? null };
      } catch (error) {
        return { url: hostUrl, host, inRecovery: null, error: (error as Error)?.message ?? String(error) };
      } finally {
        await client.end().catch(() => undefined);
      }
    }),
  );
}

/** The single-host URL of the primary; a single-host URL is returned without a probe. */
export async function primaryUrl(url: string, timeoutMs = 5_000): Promise<string> {
  if (!hasSeveralHosts(url)) return url;
  const roles = await hostRoles(url, timeoutMs);
  const primary = roles.find((r) => r.inRecovery === false);
  if (primary) return primary.url;
  throw new NoPrimaryError(
    roles.map((r) => ({ host: r.host, answer: r.inRecovery ? "a standby (in recovery)" : `no answer (${r.error})` })),
  );
}

function hostOf(url: string): string {
  const match = /^postgres(?:ql)?:\/\/(?:[^@/?#]*@)?([^/?#]*)/.exec(url);
  return match?.[1] ?? "?";
}
