// Batches, send contexts and connector configs for the drop adapter tests (sftp, ftp and file).
import type { Batch, DeliveryItem, SendContext } from "../../src/adapters/adapter.js";
import type { ConnectorConfig, DropOptions, FtpOptions, SftpOptions } from "../../src/config/types.js";

type FileConnector = Extract<ConnectorConfig, { adapter: "file" }>;
type SftpConnector = Extract<ConnectorConfig, { adapter: "sftp" }>;
type FtpConnector = Extract<ConnectorConfig, { adapter: "ftp" }>;

const COMMON = {
  location: { file: "/test/connectors/drop.yaml", line: 1, column: 1, path: [] },
  encoding: "utf-8",
  batch: { maxRecords: 5000, maxWaitMs: 60_000 },
  retry: { maxAttempts: 8, initialDelayMs: 2_000, maxDelayMs: 3_600_000, maxAgeMs: 86_400_000 },
  heartbeat: { everyMs: 30_000, offlineAfter: 3 },
  ordering: "key",
  dryRun: false,
} as const;

export function fileConnector(dir: string, drop: Partial<DropOptions> = {}, name = "city_hall_files"): FileConnector {
  return {
    ...COMMON,
    name,
    adapter: "file",
    file: { dir, file: "permit_{date:%Y%m%d}_{batch}.txt", mode: "file-per-batch", tempSuffix: ".part", ...drop },
  };
}

export function sftpConnector(sftp: Omit<SftpOptions, keyof DropOptions> & Partial<DropOptions>): SftpConnector {
  return {
    ...COMMON,
    name: "city_hall_cobol",
    adapter: "sftp",
    sftp: {
      dir: "/IN",
      file: "permit_{date:%Y%m%d}_{batch}.txt",
      mode: "file-per-batch",
      tempSuffix: ".part",
      ...sftp,
    },
  };
}

export function ftpConnector(
  ftp: Omit<FtpOptions, keyof DropOptions | "insecure"> & Partial<DropOptions> & { readonly insecure?: boolean },
  name = "state_archive",
): FtpConnector {
  return {
    ...COMMON,
    name,
    adapter: "ftp",
    ftp: {
      dir: "/IN",
      file: "permit_{date:%Y%m%d}_{batch}.txt",
      mode: "file-per-batch",
      tempSuffix: ".part",
      insecure: false,
      ...ftp,
    },
  };
}

/** A batch of fixed-width-looking records, one item per line. */
export function makeBatch(options: {
  readonly sequence: number;
  readonly rows?: readonly string[];
  readonly body?: Buffer;
  readonly name?: string;
  readonly state?: Readonly<Record<string, unknown>>;
  readonly createdAt?: Date;
  readonly connector?: string;
}): Batch {
  const rows = options.rows ?? [`PERMIT${String(options.sequence).padStart(4, "0")}APPROVED  `];
  const items: DeliveryItem[] = rows.map((row, index) => ({
    id: String(options.sequence * 1000 + index),
    token: `tok-${options.sequence}-${index}`,
    correlationId: `corr-${options.sequence}-${index}`,
    key: String(index),
    payload: Buffer.from(`${row}\r\n`),
  }));
  return {
    connector: options.connector ?? "city_hall_cobol",
    id: String(options.sequence + 100),
    sequence: options.sequence,
    createdAt: options.createdAt ?? new Date("2025-04-12T15:30:00Z"),
    items,
    body: options.body ?? Buffer.concat(items.map((item) => item.payload)),
    name: options.name,
    state: options.state,
  };
}

/** A send context that keeps every state the adapter saved, as the ledger would. */
export class RecordingContext implements SendContext {
  readonly saved: Readonly<Record<string, unknown>>[] = [];
  readonly signal: AbortSignal;

  constructor(signal: AbortSignal = AbortSignal.timeout(30_000)) {
    this.signal = signal;
  }

  async saveState(state: Readonly<Record<string, unknown>>): Promise<void> {
    this.saved.push(state);
  }

  /** The state the ledger holds after this attempt (the last one saved). */
  get state(): Readonly<Record<string, unknown>> | undefined {
    return this.saved.at(-1);
  }
}

/** The batch as the delivery engine would hand it back on a resend: same name, saved state. */
export function resend(batch: Batch, name: string, state?: Readonly<Record<string, unknown>>): Batch {
  return { ...batch, name, state };
}
