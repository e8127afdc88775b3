// Before anything runs: the primary among the source hosts, every mapping compiled against the
// source's own key columns, and one adapter per connector.
import pg from "pg";
import { type Adapter, createAdapter } from "../adapters/index.js";
import type { ConnectorConfig, EssConfig } from "../config/types.js";
import { type CompiledMapping, compileMapping, type MappingConfigError } from "../mapping/index.js";
import type { Logger } from "../ops/logger.js";
import { primaryUrl } from "../source/source-hosts.js";
import { primaryKeyColumns } from "../source/table-keys.js";

export interface EngineSetupErrorOptions {
  /** The mapping problems behind this error, each with its file, line, column and field path. */
  readonly problems?: readonly MappingConfigError[];
  readonly cause?: unknown;
}

/** A configuration that loaded but cannot run against this source (e.g. a primary key column listed as PII). */
export class EngineSetupError extends Error {
  override readonly name = "EngineSetupError";
  readonly problems: readonly MappingConfigError[];

  constructor(message: string, options: EngineSetupErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.problems = options.problems ?? [];
  }
}

export interface EngineParts {
  /** The configuration with database.url (and a shared ledger) pointing at the current primary. */
  readonly runtime: EssConfig;
  readonly mappings: readonly CompiledMapping[];
  readonly adapters: ReadonlyMap<string, Adapter>;
}

export async function prepareEngine(config: EssConfig, logger: Logger): Promise<EngineParts> {
  // Several source hosts: the one accepting writes now. The ledger, when it lives in the source
  // database, stays with that host; give it its own ledger.url to survive a source failover.
  const primary = await primaryUrl(config.database.url);
  const runtime: EssConfig =
    primary === config.database.url
      ? config
      : {
          ...config,
          database: { ...config.database, url: primary },
          ledger: { ...config.ledger, url: config.ledger.url ?? primary },
        };
  const mappings = await compileAgainstSource(config, primary);
  const adapters = new Map<string, Adapter>(config.connectors.map((c) => [c.name, createAdapter(c, { logger })]));
  return { runtime, mappings, adapters };
}

/**
 * Loading the configuration compiled each mapping already, but only here are the tables' primary
 * keys known: a key column may turn out to be PII, so a mapping can still fail.
 */
async function compileAgainstSource(config: EssConfig, sourceUrl: string): Promise<CompiledMapping[]> {
  const connectors = new Map<string, ConnectorConfig>(config.connectors.map((c) => [c.name, c]));
  const source = new pg.Client({ connectionString: sourceUrl, application_name: "ess-setup" });
  await source.connect();
  const compiled: CompiledMapping[] = [];
  try {
    for (const mapping of config.mappings) {
      // The primary key is only looked up where it is the ordering key.
      const table = mapping.source.key ? undefined : mapping.source.table;
      const keyColumns = table ? await primaryKeyColumns(source, table) : undefined;
      const result = compileMapping(mapping, connectors, { keyColumns, hashKey: config.hashKey });
      if (!result.mapping) {
        // Each problem keeps its location as fields; the message still names file:line for the operator.
        throw new EngineSetupError(result.errors.map((e) => e.message).join("\n"), { problems: result.errors });
      }
      compiled.push(result.mapping);
    }
  } finally {
    await source.end();
  }
  return compiled;
}
