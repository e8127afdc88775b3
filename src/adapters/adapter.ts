// The one small interface every partner adapter (sftp, ftp, soap, rest, file) implements.
// Adapters know nothing about the ledger or schedules: the delivery engine hands them a batch
// whose membership and name are already durable, and records what they return.

/** One rendered record on its way to a partner. */
export interface DeliveryItem {
  /** Ledger delivery id (decimal text of a bigint). */
  readonly id: string;
  /** Deterministic idempotency token: the same change always carries the same token. */
  readonly token: string;
  readonly correlationId: string;
  /** The ordering key (e.g. the permit's id), for logs. */
  readonly key: string;
  /** The rendered record exactly as the partner must receive it (JSON text for rest/soap). */
  readonly payload: Buffer;
  /** The application event's trace id, passed on where the protocol has headers (X-Trace-Id for REST). */
  readonly traceId?: string;
}

export interface Batch {
  readonly connector: string;
  /** Ledger batch id (decimal text); stable across resends of the same batch. */
  readonly id: string;
  /** Per-connector batch sequence number, the {batch} of file name templates. */
  readonly sequence: number;
  /** When the batch was formed: {date:…} in names is taken from it, so a resend reuses the name. */
  readonly createdAt: Date;
  readonly items: readonly DeliveryItem[];
  /** For drop adapters: the whole file body (records, plus any header/trailer), assembled by the delivery engine. */
  readonly body: Buffer;
  /**
   * The leading bytes of `body` that belong only at the start of a file (a CSV header row): an
   * append to a file that already has content leaves them out.
   */
  readonly fileHeader?: Buffer;
  /** The drop file name chosen before the first attempt (from `batchName`), recorded in the ledger. */
  readonly name?: string;
  /** Adapter state saved by an earlier attempt of this batch (e.g. the append offset). */
  readonly state?: Readonly<Record<string, unknown>>;
}

export interface SendContext {
  readonly signal: AbortSignal;
  /** Makes adapter state durable in the ledger before the adapter goes on (append offsets). */
  saveState(state: Readonly<Record<string, unknown>>): Promise<void>;
}

/** The partner accepted the item; `reference` is whatever receipt it gave (a message id, a status). */
export interface ItemAccepted {
  readonly id: string;
  readonly ok: true;
  readonly reference?: string;
}

export interface ItemFailed {
  readonly id: string;
  readonly ok: false;
  readonly error: AdapterError;
}

export type ItemOutcome = ItemAccepted | ItemFailed;

/** Why a partner failure should or should not be tried again. */
export type FailureClass = "retriable" | "permanent" | "attention";

/**
 * A classified partner failure. `permanent` goes to the dead letters at once; `retriable` waits
 * for the retry policy (or `retryAfterMs` when the partner said so); `attention` stops the
 * connector until an operator looks (e.g. an append-mode file whose size matches no known state).
 */
export interface AdapterErrorOptions {
  readonly failure: FailureClass;
  /** Short machine-readable reason for metrics labels: "timeout", "http_503", "soap_client_fault", "host_key_mismatch"… */
  readonly reason: string;
  /** How long the partner asked us to wait (Retry-After), if it said. */
  readonly retryAfterMs?: number | undefined;
  readonly cause?: unknown;
}

export class AdapterError extends Error {
  override readonly name: string = "AdapterError";
  readonly failure: FailureClass;
  readonly reason: string;
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options: AdapterErrorOptions) {
    super(message, "cause" in options ? { cause: options.cause } : undefined);
    this.failure = options.failure;
    this.reason = options.reason;
    this.retryAfterMs = options.retryAfterMs;
  }
}

export interface Adapter {
  readonly kind: "sftp" | "ftp" | "file" | "soap" | "rest";
  /**
   * True when `send` needs `batch.body`, the batch's records assembled into one body by the
   * delivery engine (drop adapters always; REST when it POSTs a whole CSV or fixed-width batch).
   */
  readonly takesBatchBody: boolean;
  /**
   * True when batches must go one at a time: no new batch is formed while an earlier one is
   * unresolved (on its way, or waiting for its retry). An append-mode drop grows one file, and
   * the offset saved for an unresolved batch stops matching once another batch appends.
   */
  readonly oneBatchAtATime: boolean;
  /**
   * Drop adapters only: the file name for a new batch. Called once, before the first attempt;
   * the delivery engine records it and passes it back as `batch.name` on every resend.
   */
  batchName?(batch: Pick<Batch, "connector" | "sequence" | "createdAt">): string;
  /**
   * Delivers a batch. Drop adapters deliver all-or-nothing (throw AdapterError on failure);
   * per-record adapters (soap, rest) return one outcome per item, in any order.
   */
  send(batch: Batch, context: SendContext): Promise<readonly ItemOutcome[]>;
  /**
   * Drop adapters with `rotate:` set: how old the connector's own drop files may grow before
   * `rotate` removes them. The delivery engine runs rotation only when this is set.
   */
  readonly rotateAfterMs?: number;
  /**
   * Drop adapters: removes the connector's own drop files last written before `now - rotate`
   * and returns their paths (the delivery engine audits them).
   */
  rotate?(now: Date, signal: AbortSignal): Promise<readonly string[]>;
  /** Resolves when the partner is reachable; throws AdapterError otherwise. */
  heartbeat(signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}
