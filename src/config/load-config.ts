// Loads ess.yaml and every connector and mapping file, and reports all their problems at once as ConfigErrors.
import { existsSync, readFileSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { dirname, extname, join, resolve } from "node:path";
import { stringify } from "yaml";
import { ConfigError, ConfigErrors } from "./config-error.js";
import { type ReadConnector, readConnector } from "./connector-file.js";
import { canonicalizeConnector } from "./connector-recipes.js";
import { readEssFile } from "./ess-file.js";
import { type ReadMapping, readMapping } from "./mapping-file.js";
import { type ConnectorTraits, canonicalizeMapping } from "./mapping-recipes.js";
import { type ExplainSink, RecipeNotes } from "./recipe-notes.js";
import { type BrokenFile, checkReferences } from "./references.js";
import type { EssConfig, MappingConfig, SourceLocation } from "./types.js";
import { type ConfigDocument, type DocumentOptions, openDocument } from "./yaml-document.js";
import type { ValueReader } from "./yaml-reader.js";

export type { ConfigDocument } from "./yaml-document.js";

export interface LoadOptions {
  /** Variables for `${VAR}`; process.env when absent. */
  readonly env?: NodeJS.ProcessEnv;
  /** Reads `${file:…}` secrets; lets tests and the demo serve them without touching /run/secrets. */
  readonly readFile?: (path: string) => string;
  /** Whether a referenced file (WSDL, CA bundle, secret) exists. */
  readonly fileExists?: (path: string) => boolean;
  /** Receives each file that used a recipe alias, with the aliases and the file in canonical form. */
  readonly explain?: ExplainSink;
}

/** Configuration given as text (or built in code), e.g. by a demo or a test. */
export interface ConfigDocuments {
  /** The configuration root: relative paths in ess.yaml are resolved against it. */
  readonly root: string;
  readonly ess: ConfigDocument;
  /** The connector files; read from ess.yaml's `connectors` folder when absent. */
  readonly connectors?: readonly ConfigDocument[];
  /** The mapping files; read from ess.yaml's `mappings` folder when absent. */
  readonly mappings?: readonly ConfigDocument[];
}

// What an empty file should have held, and the two ways out.
const EMPTY_ESS =
  'ess.yaml needs at least "database: { url: postgres://… }" and "replication: { slot: ess_main, publication: ess_pub }"';
const EMPTY_CONNECTOR =
  'every .yaml or .yml file in the connectors folder is read as a connector, so write one (at least "name:", "adapter:" and the adapter\'s section, e.g. "name: gis", "adapter: rest", "rest: { url: https://gis.example.gov/api }") or delete the file';
const EMPTY_MAPPING =
  'every .yaml, .yml or .json file in the mappings folder is read as a mapping, so write one (at least "name:", "source:" and "targets:", e.g. "name: permits", "source: { table: public.permits }", "targets: [{ connector: gis, format: json, fields: { id: id } }]") or delete the file';

/**
 * Reads `path` (ess.yaml), then every *.yaml / *.yml of its connector and mapping folders (and *.json mappings).
 * Throws ConfigErrors holding every problem of every file.
 */
export async function loadConfig(path: string, options: LoadOptions = {}): Promise<EssConfig> {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new ConfigErrors([unreadable(file, error)]);
  }
  return await loadConfigFromDocuments({ root: dirname(file), ess: { file, text } }, options);
}

/** Turns an object built in code into a document; its `${…}` references are interpolated like a file's. */
export function documentFromObject(file: string, value: unknown): ConfigDocument {
  return { file, text: stringify(value) };
}

export async function loadConfigFromDocuments(
  documents: ConfigDocuments,
  options: LoadOptions = {},
): Promise<EssConfig> {
  const errors: ConfigError[] = [];
  const base = {
    root: resolve(documents.root),
    env: options.env ?? process.env,
    readFile: options.readFile ?? ((path: string) => readFileSync(path, "utf8")),
    fileExists: options.fileExists ?? existsSync,
  };
  const essDocument = openDocument(documents.ess, { ...base, holdsSecrets: true, whenEmpty: EMPTY_ESS }, errors);
  const ess = essDocument ? readEssFile(essDocument) : undefined;
  if (!ess) throw new ConfigErrors(errors);

  const connectorFiles =
    documents.connectors ?? (await readFolder(ess.settings.connectorsDir, ess.connectorsDirAt, "connectors", errors));
  const mappingFiles =
    documents.mappings ?? (await readFolder(ess.settings.mappingsDir, ess.mappingsDirAt, "mappings", errors));
  // Without a folder every mapping would name unknown connectors: one error says it all.
  if (errors.some((error) => error instanceof UnreadableFolderError)) throw new ConfigErrors(errors);
  const timezone = ess.settings.timezone;
  const connectors = connectorFiles.map((doc) =>
    readOne(doc, { ...base, holdsSecrets: true, whenEmpty: EMPTY_CONNECTOR }, errors, (reader) => {
      const notes = new RecipeNotes(reader.ctx);
      canonicalizeConnector(reader.node, notes, timezone);
      const read = readConnector(reader, { timezone });
      notes.report(options.explain);
      return read;
    }),
  );
  const traits = new Map<string, ConnectorTraits>();
  for (const read of connectors) {
    if ("brokenFile" in read || !read.config) continue;
    const { format, dropFields } = read.config;
    traits.set(read.config.name, { ...(format ? { format } : {}), ...(dropFields ? { dropFields } : {}) });
  }
  const mappings = mappingFiles.map((doc) =>
    readOne(doc, { ...base, holdsSecrets: false, whenEmpty: EMPTY_MAPPING }, errors, (reader) => {
      const notes = new RecipeNotes(reader.ctx);
      canonicalizeMapping(reader.node, notes, traits);
      const read = readMapping(reader);
      notes.report(options.explain);
      return read;
    }),
  );
  const validConnectors = checkReferences(connectors, mappings, errors, ess.settings.hashKey);

  const order = [documents.ess, ...connectorFiles, ...mappingFiles].map((doc) => doc.file);
  if (errors.length > 0) throw new ConfigErrors(errors, order);
  return {
    ...ess.settings,
    connectors: [...validConnectors.values()],
    mappings: mappings.map(completeMapping),
  };
}

function readOne<T extends ReadConnector | ReadMapping>(
  document: ConfigDocument,
  options: DocumentOptions,
  errors: ConfigError[],
  read: (document: ValueReader) => T,
): T | BrokenFile {
  const opened = openDocument(document, options, errors);
  return opened ? read(opened) : { brokenFile: document.file };
}

/** Only reached when nothing reported an error, so every part is present. */
function completeMapping(read: ReadMapping | BrokenFile): MappingConfig {
  if ("brokenFile" in read || !read.settings) throw new Error("completeMapping called on a mapping with errors");
  return { ...read.settings, targets: read.targets.flatMap((target) => (target.config ? [target.config] : [])) };
}

async function readFolder(
  dir: string,
  namedAt: SourceLocation,
  what: "connectors" | "mappings",
  errors: ConfigError[],
): Promise<ConfigDocument[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    errors.push(new UnreadableFolderError({ ...namedAt, path: [what] }, { what, dir, error }));
    return [];
  }
  // JSON is YAML too: a mapping written as JSON reads with the same schema and line numbers.
  const extensions = what === "mappings" ? [".yaml", ".yml", ".json"] : [".yaml", ".yml"];
  const files = names.filter((name) => extensions.includes(extname(name))).sort();
  const documents: ConfigDocument[] = [];
  for (const name of files) {
    const file = join(dir, name);
    try {
      documents.push({ file, text: readFileSync(file, "utf8") });
    } catch (error) {
      errors.push(unreadable(file, error));
    }
  }
  return documents;
}

/** A connectors or mappings folder that cannot be listed; nothing read from the other files is checked then. */
class UnreadableFolderError extends ConfigError {
  constructor(
    location: SourceLocation,
    { what, dir, error }: { readonly what: "connectors" | "mappings"; readonly dir: string; readonly error: unknown },
  ) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    const reason =
      code === "ENOENT"
        ? `the ${what} folder ${dir} does not exist (ENOENT): create it, or set "${what}:" in ess.yaml to the folder that holds the ${what === "connectors" ? "connector" : "mapping"} files (relative to ess.yaml)`
        : `cannot read the ${what} folder ${dir}: ${code}`;
    super(location, reason, { expected: "a readable directory" });
  }
}

function unreadable(file: string, error: unknown): ConfigError {
  const code = (error as NodeJS.ErrnoException).code ?? String(error);
  const reason =
    code === "ENOENT"
      ? "cannot read the configuration file: ENOENT (no such file; run essctl in the folder holding ess.yaml, or pass --config path/to/ess.yaml)"
      : `cannot read the configuration file: ${code}`;
  return new ConfigError({ file, line: 1, column: 1, path: [] }, reason, { expected: "a readable YAML file" });
}
