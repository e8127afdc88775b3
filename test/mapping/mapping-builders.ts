// Builds the resolved mapping and connector configurations the YAML loader would produce, for mapping tests.
import type {
  ConnectorConfig,
  FieldSpec,
  MappingConfig,
  MappingSource,
  SourceLocation,
  TargetConfig,
} from "../../src/config/types.js";
import type { RenderContext } from "../../src/mapping/index.js";

export const FILE = "mappings/permit_status.yaml";

export function location(line: number, ...path: (string | number)[]): SourceLocation {
  return { file: FILE, line, column: 7, path };
}

const common = {
  batch: { maxRecords: 5000, maxWaitMs: 60_000 },
  retry: { maxAttempts: 8, initialDelayMs: 2000, maxDelayMs: 3_600_000, maxAgeMs: 86_400_000 },
  heartbeat: { everyMs: 30_000, offlineAfter: 3 },
  ordering: "key" as const,
  dryRun: false,
};

const drop = {
  dir: "/IN",
  file: "permit_{date:%Y%m%d}_{batch}.txt",
  mode: "file-per-batch" as const,
  tempSuffix: ".part",
};

export function sftpConnector(name: string, encoding: string): ConnectorConfig {
  return {
    ...common,
    name,
    encoding,
    location: { file: `connectors/${name}.yaml`, line: 1, column: 1, path: [] },
    adapter: "sftp",
    sftp: { ...drop, host: "127.0.0.1", port: 22, username: "ess", hostKey: "SHA256:x" },
  };
}

export function restConnector(name: string): ConnectorConfig {
  return {
    ...common,
    name,
    encoding: "utf-8",
    location: { file: `connectors/${name}.yaml`, line: 1, column: 1, path: [] },
    adapter: "rest",
    rest: { url: "http://127.0.0.1:1/api", method: "POST", headers: {}, timeoutMs: 10_000 },
  };
}

export function soapConnector(name: string): ConnectorConfig {
  return {
    ...common,
    name,
    encoding: "utf-8",
    location: { file: `connectors/${name}.yaml`, line: 1, column: 1, path: [] },
    adapter: "soap",
    soap: { wsdl: "/dev/null", operation: "Reschedule", timeoutMs: 10_000 },
  };
}

export function connectorMap(...connectors: ConnectorConfig[]): ReadonlyMap<string, ConnectorConfig> {
  return new Map(connectors.map((c) => [c.name, c]));
}

export type FieldList = Readonly<Record<string, FieldSpec>>;

/** Fields get consecutive line numbers from `firstLine`, as a YAML block would. */
export function fieldConfigs(fields: FieldList, targetIndex = 0, firstLine = 20, key = "fields") {
  return Object.entries(fields).map(([name, spec], i) => ({
    name,
    spec,
    location: location(firstLine + i, "targets", targetIndex, key, name),
  }));
}

export function targetConfig(
  connector: string,
  format: TargetConfig["format"],
  fields: FieldList,
  options: Partial<Omit<TargetConfig, "fields" | "header" | "trailer">> & {
    header?: FieldList;
    trailer?: FieldList;
    index?: number;
  } = {},
): TargetConfig {
  const { header, trailer, index = 0, ...rest } = options;
  return {
    connector,
    format,
    terminator: "crlf",
    overflow: "error",
    unmappable: "error",
    csv: { header: false, delimiter: "," },
    location: location(15, "targets", index),
    ...rest,
    fields: fieldConfigs(fields, index),
    ...(header ? { header: fieldConfigs(header, index, 40, "header") } : {}),
    ...(trailer ? { trailer: fieldConfigs(trailer, index, 50, "trailer") } : {}),
  };
}

export function mappingConfig(
  targets: readonly TargetConfig[],
  options: { timezone?: string; pii?: readonly string[]; source?: Partial<MappingSource> } = {},
): MappingConfig {
  return {
    name: "permit_status",
    location: location(1),
    source: {
      table: { schema: "public", name: "permits" },
      ops: ["insert", "update", "delete"],
      where: {},
      ...options.source,
    },
    timezone: options.timezone ?? "UTC",
    pii: options.pii ?? [],
    targets,
  };
}

export const CONTEXT: RenderContext = {
  op: "update",
  token: "tok-7f3a",
  correlationId: "corr-0001",
  commitTime: new Date("2025-04-12T14:03:00.250Z"),
};
