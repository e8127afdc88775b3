// Opens the ledger (and, when asked, the source database) that a configuration points at, for one command.
import pg from "pg";
import { type EssConfig, loadConfig } from "../config/index.js";
import { primaryUrl } from "../source/source-hosts.js";
import type { CommandContext } from "./cli-options.js";

export interface LedgerSession {
  readonly config: EssConfig;
  readonly ledger: pg.Client;
  readonly schema: string;
}

export async function withLedger<T>(context: CommandContext, work: (session: LedgerSession) => Promise<T>): Promise<T> {
  const config = await loadConfig(context.configPath, { env: context.env });
  const ledger = new pg.Client({
    connectionString: await primaryUrl(config.ledger.url ?? config.database.url),
    application_name: "essctl",
  });
  await ledger.connect();
  try {
    return await work({ config, ledger, schema: config.ledger.schema });
  } finally {
    await ledger.end();
  }
}

export async function withSource<T>(config: EssConfig, work: (source: pg.Client) => Promise<T>): Promise<T> {
  const source = new pg.Client({ connectionString: await primaryUrl(config.database.url), application_name: "essctl" });
  await source.connect();
  try {
    return await work(source);
  } finally {
    await source.end();
  }
}
