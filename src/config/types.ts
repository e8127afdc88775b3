// The validated, resolved shape of ess.yaml, connectors/*.yaml and mappings/*.yaml.
// Durations are milliseconds; relative paths are already resolved against the file's directory;
// ${VAR}/${file:} are already interpolated (the originals are registered as secrets for redaction).
import type { Op, TableRef } from "../change/change.js";

/** Where a value came from, so later checks (database, mapping) can point at the YAML line. */
export interface SourceLocation {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** Field path inside the document, e.g. ["targets", 0, "fields", "PERMIT_ID"]. */
  readonly path: readonly (string | number)[];
}

export interface EssConfig {
  /** Absolute path of ess.yaml (or "<defaults>" when built in code). */
  readonly file: string;
  readonly database: { readonly url: string };
  readonly ledger: {
    readonly schema: string;
    /** Another database for the ledger; the source database when absent. */
    readonly url?: string;
    readonly retention: { readonly deliveredMs: number; readonly auditMs: number };
  };
  readonly replication: {
    readonly slot: string;
    readonly publication: string;
    readonly plugin: "pgoutput" | "wal2json";
    readonly heartbeatMs: number;
    readonly stallAfterMs: number;
    /** Create the slot with failover = true (PostgreSQL 17+), so slot synchronisation keeps it on the standby. */
    readonly failover: boolean;
  };
  readonly connectorsDir: string;
  readonly mappingsDir: string;
  /** The operators' listener (/metrics, /healthz, /readyz), and the partners' when `inbound` is absent. */
  readonly http: HttpSettings;
  /** Default zone of schedules written without one and of `{{date}}` in drop names (the server's zone when unset). */
  readonly timezone: string;
  /** Credentials for POST /events and GET /receipts/<id>; without them those endpoints answer 403. */
  readonly events?: InboundAuth;
  readonly connectors: readonly ConnectorConfig[];
  readonly mappings: readonly MappingConfig[];
}

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

export interface HttpSettings extends ListenAddress {
  /**
   * The partners' and applications' listener (/inbound/<connector>, /events, /receipts/<id>),
   * apart from the operators' endpoints; optionally TLS.
   */
  readonly inbound?: ListenAddress & { readonly tls?: { readonly certFile: string; readonly keyFile: string } };
}

export interface BatchPolicy {
  readonly maxRecords: number;
  readonly maxWaitMs: number;
}

export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  /** A delivery is retried for at most this long after its first attempt, then it is dead. */
  readonly maxAgeMs: number;
}

/** "Mon-Fri 06:00-22:00 America/New_York": deliveries are held outside the window. */
export interface ScheduleWindow {
  readonly kind: "window";
  readonly text: string;
  /** ISO weekdays the window is open (1 = Monday … 7 = Sunday). */
  readonly days: readonly number[];
  /** Minutes after local midnight. */
  readonly startMinute: number;
  readonly endMinute: number;
  readonly timezone: string;
}

/** `every: 60s`: a batch at most once per interval. */
export interface ScheduleInterval {
  readonly kind: "every";
  readonly text: string;
  readonly everyMs: number;
}

/**
 * `at: "09:00"`, `days: Mon-Fri` or `cron: "0 9 * * 1-5"`: deliveries wait for the next tick, then
 * everything due is sent at once. `at`/`days` are kept as the cron expressions they mean.
 */
export interface ScheduleClock {
  readonly kind: "clock";
  readonly text: string;
  /** Standard five-field cron expressions, any of which makes a tick. */
  readonly crons: readonly string[];
  readonly timezone: string;
}

export type DeliverySchedule = ScheduleWindow | ScheduleInterval | ScheduleClock;

export interface HeartbeatPolicy {
  readonly everyMs: number;
  readonly offlineAfter: number;
}

export type Ordering = "key" | "connector" | "none";

/** How partner callbacks on /inbound/<connector> are authenticated. */
export interface InboundAuth {
  readonly hmacSecret?: string;
  readonly bearerToken?: string;
  /** How far a signed X-ESS-Timestamp may be from the server's clock (default 5 minutes). */
  readonly toleranceMs?: number;
}

export interface DropOptions {
  readonly dir: string;
  /** Name template: {date:%Y%m%d}, {batch}, {connector}. */
  readonly file: string;
  readonly mode: "file-per-batch" | "append";
  readonly tempSuffix: string;
  /** Trigger file name template; {file} is the data file's name. */
  readonly doneFile?: string;
  /** Zone of {date:…} in names: the connector's explicit `timezone`, else UTC. */
  readonly dateTimezone?: string;
  /** `rotate: 7d`: the connector's own drop files older than this are removed (and audited). */
  readonly rotateMs?: number;
}

export interface SftpOptions extends DropOptions {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly privateKey?: string;
  readonly passphrase?: string;
  readonly password?: string;
  /** Pinned host key fingerprint, "SHA256:<base64 without padding>" as `ssh-keygen -lf` prints it. */
  readonly hostKey: string;
}

/** `adapter: ftp`: FTP with explicit TLS (AUTH TLS, protected data connections) unless `insecure`. */
export interface FtpOptions extends DropOptions {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly password: string;
  /** Extra CA bundle (PEM file path) trusted besides the system's; a partner's self-signed certificate works as its own CA. */
  readonly caFile?: string;
  /** Pinned SHA-256 fingerprint of the server certificate, 64 hex digits upper case (replaces CA verification). */
  readonly certFingerprint?: string;
  /** Plain FTP without TLS: credentials and records cross the network in clear text. */
  readonly insecure: boolean;
  /** Where `insecure: true` was written, for the warning of `essctl check`. */
  readonly insecureAt?: SourceLocation;
}

export interface SoapOptions {
  /** Absolute file path or http(s) URL. */
  readonly wsdl: string;
  readonly endpoint?: string;
  readonly operation: string;
  readonly security?: { readonly username: string; readonly password: string };
  readonly timeoutMs: number;
  /**
   * With a connector `format: csv` or `fixed-width`: the operation's base64Binary input element
   * that carries a whole batch body, one call per batch.
   */
  readonly attachment?: string;
  /** The input element that carries the batch's record count, when the operation has one. */
  readonly recordCount?: string;
}

export interface RestOptions {
  readonly url: string;
  readonly method: "POST" | "PUT" | "PATCH";
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly health?: string;
  /** Extra CA bundle (PEM file path) trusted besides the system's. */
  readonly caFile?: string;
}

export type AnswerStatus = "accepted" | "rejected";

/** Where a field of an answer file is: columns of a fixed-width line (1-based), or a CSV column. */
export type AnswerFieldPosition =
  | { readonly start: number; readonly width: number }
  | { readonly column: number }
  | { readonly header: string };

export type AnswerFileField = "correlationId" | "status" | "reference" | "message";

/** The inbound mapping of an answer file: its format and where each field of an answer is. */
export interface AnswerFileLayout {
  readonly format: "fixed-width" | "csv";
  /** iconv-lite encoding of the file (EBCDIC included); default the connector's. */
  readonly encoding: string;
  readonly fields: { readonly [F in AnswerFileField]?: AnswerFieldPosition } & {
    readonly correlationId: AnswerFieldPosition;
    readonly status: AnswerFieldPosition;
  };
  /** The partner's status codes, e.g. { A: accepted, R: rejected }; accepted/rejected are always understood. */
  readonly statusCodes: Readonly<Record<string, AnswerStatus>>;
  readonly csv: { readonly header: boolean; readonly delimiter: string };
}

/** `pull:` on a drop connector (sftp, file): answer files the partner leaves in a directory. */
export interface AnswerFilePull {
  readonly kind: "files";
  readonly everyMs: number;
  readonly dir: string;
  /** A file name pattern: `*` any characters, `?` one. */
  readonly file: string;
  /** Where processed files are moved (default `<dir>/done`). */
  readonly done: string;
  readonly layout: AnswerFileLayout;
}

/** `pull:` on a rest connector: its status endpoint is asked about every delivery sent and not yet answered. */
export interface StatusPull {
  readonly kind: "status";
  readonly everyMs: number;
  /** With `{correlationId}` (or `{token}`) in it. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  /** A delivery sent longer ago than this with no answer goes dead, with that reason. */
  readonly giveUpAfterMs: number;
}

export type PullConfig = AnswerFilePull | StatusPull;

/** What an answer offers to an application table's columns. */
export type AnswerValue =
  | "correlationId"
  | "status"
  | "reference"
  | "message"
  | "connector"
  | "deliveryId"
  | "receiptId"
  | "receivedAt"
  | "via";

/** `answers:` — every answer is also written into an application table, in the same transaction. */
export interface AnswerTable {
  readonly table: TableRef;
  /** Upsert on these columns (they need a unique index); empty: insert every answer. */
  readonly key: readonly string[];
  readonly columns: readonly { readonly column: string; readonly value: AnswerValue }[];
}

interface ConnectorCommon {
  readonly name: string;
  readonly location: SourceLocation;
  /** The connector's zone (its own `timezone`, else ess.yaml's): schedules written without a zone. */
  readonly timezone?: string;
  /** Set only by an explicit `timezone:`: the zone of {date:…} in drop names, which are UTC otherwise. */
  readonly nameTimezone?: string;
  /** The one record format this connector carries; targets naming it may leave out `format`. */
  readonly format?: RecordFormat;
  /** Output fields (or source columns) left out of every record sent to this connector. */
  readonly dropFields?: readonly string[];
  /** iconv-lite encoding name (EBCDIC cp037, cp500, cp1047, cp1140 included); default utf-8. */
  readonly encoding: string;
  readonly batch: BatchPolicy;
  readonly retry: RetryPolicy;
  readonly schedule?: DeliverySchedule;
  readonly heartbeat: HeartbeatPolicy;
  readonly ordering: Ordering;
  readonly dryRun: boolean;
  readonly inbound?: InboundAuth;
  readonly pull?: PullConfig;
  readonly answers?: AnswerTable;
}

export type ConnectorConfig =
  | (ConnectorCommon & { readonly adapter: "sftp"; readonly sftp: SftpOptions })
  | (ConnectorCommon & { readonly adapter: "file"; readonly file: DropOptions })
  | (ConnectorCommon & { readonly adapter: "ftp"; readonly ftp: FtpOptions })
  | (ConnectorCommon & { readonly adapter: "soap"; readonly soap: SoapOptions })
  | (ConnectorCommon & { readonly adapter: "rest"; readonly rest: RestOptions });

export type AdapterKind = ConnectorConfig["adapter"];

export type RecordFormat = "fixed-width" | "csv" | "json" | "soap";

/** Long form of a field: { from: column, width: 10, align: right, pad: "0" } plus formatter keys. */
export interface LongFieldSpec {
  readonly from?: string;
  readonly const?: string;
  readonly width?: number;
  readonly align?: "left" | "right";
  readonly pad?: string;
  /** Further formatters in expression syntax, applied before width/align/pad: "upper | trim". */
  readonly format?: string;
}

export type FieldSpec = string | LongFieldSpec;

export interface FieldConfig {
  readonly name: string;
  readonly spec: FieldSpec;
  readonly location: SourceLocation;
}

export interface TargetConfig {
  readonly connector: string;
  readonly format: RecordFormat;
  /** In declaration order: fixed-width and CSV columns follow it. */
  readonly fields: readonly FieldConfig[];
  readonly terminator: "crlf" | "lf" | "none";
  readonly overflow: "error" | "truncate";
  readonly unmappable: "error" | "substitute";
  readonly csv: { readonly header: boolean; readonly delimiter: string };
  /** Optional fixed-width header/trailer records (mainframe batch control records). */
  readonly header?: readonly FieldConfig[];
  readonly trailer?: readonly FieldConfig[];
  readonly location: SourceLocation;
}

export interface MappingSource {
  readonly table?: TableRef;
  readonly topic?: string;
  readonly ops: readonly Op[];
  readonly where: Readonly<Record<string, readonly (string | number | boolean | null)[]>>;
  /** Key columns; absent means the table's primary key (resolved against the database). */
  readonly key?: readonly string[];
}

export interface MappingConfig {
  readonly name: string;
  readonly location: SourceLocation;
  readonly source: MappingSource;
  readonly timezone: string;
  readonly pii: readonly string[];
  readonly targets: readonly TargetConfig[];
}
