// Points the shipped ess.yaml, connectors/ and mappings/ at the demo's database and partners through
// their ${VAR:-default} variables, checks that nothing still points elsewhere, and speeds up the pacing.
import { randomBytes } from "node:crypto";
import { relative, sep } from "node:path";
import type { ConnectorConfig, EssConfig } from "../config/index.js";
import type { RestPartner } from "./rest-partner.js";
import type { SftpPartner } from "./sftp-partner.js";
import type { SoapPartner } from "./soap-partner.js";

export interface DemoPartners {
  readonly databaseUrl: string;
  readonly sftp: SftpPartner;
  readonly soap: SoapPartner;
  readonly rest: RestPartner;
  /** ESS_DROP_DIR: the file connectors drop under it. */
  readonly dropDir: string;
}

/** A shipped connector would reach something other than a demo partner: the demo sends nothing then. */
export class UnpointedConnectorError extends Error {
  override readonly name = "UnpointedConnectorError";
  readonly connector: string;
  readonly file: string;
  /** The address the connector file holds. */
  readonly found: string;
  constructor({
    connector,
    file,
    found,
  }: { readonly connector: string; readonly file: string; readonly found: string }) {
    super(
      `${file}: connector ${connector} points at ${found}, not at a demo partner; ` +
        // biome-ignore lint/suspicious/noTemplateCurlyInString: ${VAR:-default} is configuration syntax here
        "its address must come from the environment (${VAR:-default}) for the demo to redirect it",
    );
    this.connector = connector;
    this.file = file;
    this.found = found;
  }
}

/** The variables the shipped examples read, set to the demo's partners (they override the caller's). */
export function demoEnvironment(base: NodeJS.ProcessEnv, partners: DemoPartners): NodeJS.ProcessEnv {
  return {
    ...base,
    DATABASE_URL: partners.databaseUrl,
    // The demo reads the ledger itself; a fixed metrics port could clash with a running ESS.
    ESS_HTTP_LISTEN: "127.0.0.1:0",
    CITY_SFTP_HOST: partners.sftp.host,
    CITY_SFTP_PORT: String(partners.sftp.port),
    CITY_SFTP_USER: partners.sftp.username,
    CITY_SFTP_PASSWORD: partners.sftp.password,
    CITY_SFTP_HOST_KEY: partners.sftp.hostKey,
    // The shipped window is office hours in New York; the demo runs whenever it is started.
    CITY_SCHEDULE: "always",
    // The court calendar drops at 06:00 on weekdays; the demo shows its file at once.
    COURT_SCHEDULE: "always",
    COUNTY_SOAP_URL: partners.soap.url,
    COUNTY_USER: partners.soap.username,
    COUNTY_PASS: partners.soap.password,
    COUNTY_CALLBACK_TOKEN: randomBytes(12).toString("base64url"),
    ESS_DROP_DIR: partners.dropDir,
    GIS_URL: partners.rest.url,
    GIS_HEALTH_URL: partners.rest.healthUrl,
    GIS_KEY: partners.rest.apiKey,
  };
}

/** Throws UnpointedConnectorError for the first connector that would reach outside the demo. */
export function assertPointedAtPartners(config: EssConfig, partners: DemoPartners): void {
  for (const connector of config.connectors) {
    const found = partnerAddress(connector);
    const expected = expectedAddress(connector, partners);
    const ok = connector.adapter === "file" ? isInside(partners.dropDir, found) : found === expected;
    if (!ok) throw new UnpointedConnectorError({ connector: connector.name, file: connector.location.file, found });
  }
}

function partnerAddress(connector: ConnectorConfig): string {
  switch (connector.adapter) {
    case "sftp":
      return `${connector.sftp.host}:${connector.sftp.port}`;
    case "ftp":
      return `${connector.ftp.host}:${connector.ftp.port}`;
    case "file":
      return connector.file.dir;
    case "soap":
      return connector.soap.endpoint ?? connector.soap.wsdl;
    case "rest":
      return connector.rest.url;
  }
}

function expectedAddress(connector: ConnectorConfig, partners: DemoPartners): string {
  switch (connector.adapter) {
    case "sftp":
      return `${partners.sftp.host}:${partners.sftp.port}`;
    case "ftp":
      // The demo stands in no FTP partner: an ftp connector is refused rather than sent outside.
      return "(no FTP partner in the demo)";
    case "file":
      return partners.dropDir;
    case "soap":
      return partners.soap.url;
    case "rest":
      return partners.rest.url;
  }
}

function isInside(parent: string, path: string): boolean {
  const rel = relative(parent, path);
  return rel !== "" && !rel.startsWith(`..${sep}`) && rel !== ".." && !rel.startsWith(sep);
}

/** How much faster than the shipped files the demo runs, so it finishes in seconds. */
export const DEMO_PACING = { batchWaitMs: 500, heartbeatMs: 1_000, retryDelayMs: 500, retryMaxDelayMs: 5_000 };

/**
 * The shipped connectors wait up to 60 s to fill a batch and probe partners every 30 s: right for
 * a mainframe, too slow for a one-minute demo. Only the timing changes; formats, encodings,
 * names and retry limits stay as shipped.
 */
export function withDemoPacing(config: EssConfig): EssConfig {
  return {
    ...config,
    connectors: config.connectors.map((connector) => ({
      ...connector,
      batch: { ...connector.batch, maxWaitMs: Math.min(connector.batch.maxWaitMs, DEMO_PACING.batchWaitMs) },
      heartbeat: { ...connector.heartbeat, everyMs: Math.min(connector.heartbeat.everyMs, DEMO_PACING.heartbeatMs) },
      retry: {
        ...connector.retry,
        initialDelayMs: Math.min(connector.retry.initialDelayMs, DEMO_PACING.retryDelayMs),
        maxDelayMs: Math.min(connector.retry.maxDelayMs, DEMO_PACING.retryMaxDelayMs),
      },
    })),
  };
}
