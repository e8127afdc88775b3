// Reads ess.yaml (SPEC §3.1): database, ledger, replication, the connector and mapping folders, http.
import { resolve } from "node:path";
import { sourceHostUrls } from "./database-hosts.js";
import { DEFAULTS } from "./defaults.js";
import { readInboundAuth } from "./inbound-auth.js";
import { SQL_IDENTIFIER, SQL_IDENTIFIER_TEXT } from "./names.js";
import { isValidTimezone, serverTimezone } from "./schedule.js";
import { passwordNeedsEncoding } from "./secrets.js";
import type { EssConfig, SourceLocation } from "./types.js";
import type { MapReader, ValueReader } from "./yaml-reader.js";

export type EssSettings = Omit<EssConfig, "connectors" | "mappings">;

export interface EssFile {
  readonly settings: EssSettings;
  /** Where the connector and mapping folders are named (the document start when defaulted). */
  readonly connectorsDirAt: SourceLocation;
  readonly mappingsDirAt: SourceLocation;
}

const TOP_KEYS = ["database", "ledger", "replication", "connectors", "mappings", "http", "events", "timezone"];
const POSTGRES_URL_TEXT = "a PostgreSQL URL such as postgres://user@host:5432/database";
const LISTEN = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9_.-]+)):(\d{1,5})$/;
const LISTEN_TEXT = "host:port, e.g. 127.0.0.1:9464 or [::1]:9464";

/** Reads the settings; problems are pushed to the document's error list and defaults stand in. */
export function readEssFile(document: ValueReader): EssFile | undefined {
  const top = document.map(TOP_KEYS, "the ess.yaml settings (a mapping)");
  if (!top) return undefined;
  const root = top.ctx.root;
  const connectorsDir = top.get("connectors")?.string("a directory") ?? DEFAULTS.connectorsDir;
  const mappingsDir = top.get("mappings")?.string("a directory") ?? DEFAULTS.mappingsDir;
  const settings: EssSettings = {
    file: top.ctx.file,
    database: readDatabase(top),
    ledger: readLedger(top),
    replication: readReplication(top),
    connectorsDir: resolve(root, connectorsDir),
    mappingsDir: resolve(root, mappingsDir),
    http: readHttp(top),
    timezone:
      top.get("timezone")?.matching(isValidTimezone, "an IANA time zone such as America/New_York or UTC") ??
      serverTimezone(),
    ...optionalEvents(readInboundAuth(top.get("events"), "events")),
  };
  return {
    settings,
    connectorsDirAt: top.get("connectors")?.location ?? document.location,
    mappingsDirAt: top.get("mappings")?.location ?? document.location,
  };
}

function optionalEvents(events: EssSettings["events"]): Pick<EssSettings, "events"> {
  return events === undefined ? {} : { events };
}

export function isPostgresUrl(text: string): boolean {
  if (!/^postgres(ql)?:\/\//.test(text)) return false;
  // Several hosts (host1:5432,host2:5432), as libpq takes them: each must make a URL.
  return sourceHostUrls(text).every((url) => {
    try {
      new URL(url);
      return true;
    } catch {
      // The caller reports the malformed URL with its position.
      return false;
    }
  });
}

function readDatabase(top: MapReader): EssSettings["database"] {
  const database = top.require("database", "a mapping with url")?.map(["url"]);
  const url = readPostgresUrl(database?.require("url", POSTGRES_URL_TEXT));
  return { url: url ?? "" };
}

/**
 * A password holding "/", "#", "?" or "@" unencoded makes a URL parser read part of it as host,
 * port or path: the connection would go elsewhere and the password would be printed as an address.
 */
function readPostgresUrl(value: ValueReader | undefined): string | undefined {
  const text = value?.text(POSTGRES_URL_TEXT)?.value;
  if (value === undefined || text === undefined) return undefined;
  if (passwordNeedsEncoding(text)) {
    return value.fail(
      'the password in the URL holds "/", "#", "?" or "@", which end a URL\'s user info; ' +
        "percent-encode them (%2F, %23, %3F, %40) or leave the password out of the URL and set PGPASSWORD",
      { expected: "postgres://user:<percent-encoded password>@host:5432/database", found: "a hidden value" },
    );
  }
  return value.matching(isPostgresUrl, POSTGRES_URL_TEXT);
}

function readLedger(top: MapReader): EssSettings["ledger"] {
  const ledger = top.get("ledger")?.map(["schema", "url", "retention"]);
  const schema = ledger?.get("schema")?.matching(SQL_IDENTIFIER, SQL_IDENTIFIER_TEXT);
  const url = readPostgresUrl(ledger?.get("url"));
  const retention = ledger?.get("retention")?.map(["delivered", "audit"]);
  return {
    schema: schema ?? DEFAULTS.ledgerSchema,
    ...(url !== undefined ? { url } : {}),
    retention: {
      deliveredMs: retention?.get("delivered")?.duration() ?? DEFAULTS.retention.deliveredMs,
      auditMs: retention?.get("audit")?.duration() ?? DEFAULTS.retention.auditMs,
    },
  };
}

function readReplication(top: MapReader): EssSettings["replication"] {
  const replication = top
    .require("replication", "a mapping with slot and publication")
    ?.map(["slot", "publication", "plugin", "heartbeat", "stallAfter", "failover"]);
  const slot = replication?.require("slot", SQL_IDENTIFIER_TEXT)?.matching(SQL_IDENTIFIER, SQL_IDENTIFIER_TEXT);
  const publication = replication
    ?.require("publication", SQL_IDENTIFIER_TEXT)
    ?.matching(SQL_IDENTIFIER, SQL_IDENTIFIER_TEXT);
  return {
    slot: slot ?? "",
    publication: publication ?? "",
    plugin: replication?.get("plugin")?.oneOf(["pgoutput", "wal2json"], "plugin") ?? DEFAULTS.plugin,
    heartbeatMs: replication?.get("heartbeat")?.duration() ?? DEFAULTS.replicationHeartbeatMs,
    stallAfterMs: replication?.get("stallAfter")?.duration() ?? DEFAULTS.stallAfterMs,
    failover: replication?.get("failover")?.boolean() ?? false,
  };
}

function readHttp(top: MapReader): EssSettings["http"] {
  const http = top.get("http")?.map(["listen", "inbound"]);
  const operators = readListen(http?.get("listen")) ?? DEFAULTS.http;
  const inboundSection = http?.get("inbound")?.map(["listen", "tls"]);
  if (!inboundSection) return operators;
  const listen = inboundSection.require("listen", LISTEN_TEXT);
  const inbound = readListen(listen);
  if (!inbound) return operators;
  if (inbound.port !== 0 && inbound.port === operators.port && sameHost(inbound.host, operators.host)) {
    listen?.fail("http.inbound.listen is the same address as http.listen: the partners' listener must be another one", {
      expected: "another port than http.listen",
      found: `${inbound.host}:${inbound.port}`,
    });
  }
  const tls = inboundSection.get("tls")?.map(["cert", "key"]);
  const root = top.ctx.root;
  const certFile = tls?.require("cert", "a PEM certificate file")?.string("a PEM certificate file");
  const keyFile = tls?.require("key", "a PEM private key file")?.string("a PEM private key file");
  return {
    ...operators,
    inbound: {
      ...inbound,
      ...(certFile !== undefined && keyFile !== undefined
        ? { tls: { certFile: resolve(root, certFile), keyFile: resolve(root, keyFile) } }
        : {}),
    },
  };
}

function sameHost(a: string, b: string): boolean {
  const any = new Set(["0.0.0.0", "::"]);
  return a === b || any.has(a) || any.has(b);
}

function readListen(listen: ValueReader | undefined): { host: string; port: number } | undefined {
  const text = listen?.string(LISTEN_TEXT);
  if (listen === undefined || text === undefined) return undefined;
  const match = LISTEN.exec(text);
  const port = Number(match?.[3]);
  const host = match?.[1] ?? match?.[2];
  if (!match || host === undefined) {
    listen.fail(`${listen.describe()} is not ${LISTEN_TEXT}`, { expected: LISTEN_TEXT, found: listen.describe() });
    return undefined;
  }
  // Port 0 asks the kernel for a free port (tests, side-by-side instances).
  if (port > 65535) {
    listen.fail(`port ${port} is out of range (expected 0 to 65535)`, {
      expected: "a port from 0 to 65535",
      found: String(port),
    });
    return undefined;
  }
  return { host, port };
}
