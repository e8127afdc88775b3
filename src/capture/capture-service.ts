// Runs the replication source into the ledger until stopped: slot and publication checks, the
// resume position, reconnection with backoff, the idle-slot heartbeat and a graceful stop.
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import type { Lsn, TableRef } from "../change/change.js";
import { formatLsn } from "../change/lsn.js";
import { FeedWriter } from "../ledger/feed-writer.js";
import { StreamedChanges } from "../ledger/streamed-changes.js";
import type { Logger } from "../ops/logger.js";
import { decoderSetup } from "../source/decoder-factory.js";
import { ReplicationSilentError, ReplicationStream } from "../source/replication-stream.js";
import { enableSlotFailover, ensureSlot, serverVersionNum, verifyPublication } from "../source/slot.js";
import { primaryUrl, sourceHostUrls } from "../source/source-hosts.js";
import { classifyPgError, type PgFailureKind } from "../sql/pg-error.js";
import { type BackoffPolicy, backoffDelay } from "./backoff.js";
import { type CaptureHooks, type CaptureLimits, CapturePipeline, DEFAULT_CAPTURE_LIMITS } from "./capture-pipeline.js";
import { SourceHeartbeat } from "./source-heartbeat.js";
import { CheckpointMismatchError, trustedResumePosition } from "./source-identity-guard.js";

export interface CaptureServiceOptions {
  /** The source database; several hosts (host1,host2) are tried in turn for the primary. */
  readonly sourceUrl: string;
  readonly ledgerUrl: string;
  readonly schema: string;
  readonly slot: string;
  readonly publication: string;
  readonly plugin: "pgoutput" | "wal2json";
  /** Mapped tables: the publication must cover them (pgoutput) or they form wal2json's filter. */
  readonly tables: readonly TableRef[];
  readonly heartbeatMs: number;
  readonly logger: Logger;
  readonly limits?: CaptureLimits;
  readonly hooks?: CaptureHooks;
  readonly reconnect?: BackoffPolicy;
  readonly statusIntervalMs?: number;
  /** Replace a replication connection that stays silent this long (default 30 s). */
  readonly silentAfterMs?: number;
  /** Create (or turn) the slot into a failover slot (PostgreSQL 17+): `replication.failover`. */
  readonly failover?: boolean;
  /** Trust a changed source once (another server, timeline or a new slot): start from the slot's position. */
  readonly acceptSourceChange?: boolean;
  /** Mapping names, for the recovery steps of a refused checkpoint. */
  readonly mappingNames?: readonly string[];
}

export interface CaptureStatus {
  readonly connected: boolean;
  readonly durableLsn: Lsn;
  readonly serverWalEnd: Lsn;
  /** Commit time of the last change made durable (for lag in seconds). */
  readonly lastCommitTime: Date | undefined;
  readonly reconnects: number;
}

export class CaptureService {
  private stopping = false;
  private stream: ReplicationStream | undefined;
  private pipeline: CapturePipeline | undefined;
  private wake: (() => void) | undefined;
  private lastCommitTime: Date | undefined;
  private reconnects = 0;
  private durable: Lsn = 0n;
  /** The walsender of a session given up for silence: it may still hold the slot. */
  private abandonedBackend: number | undefined;

  /** The single-host URL of the source's primary, as the last session found it. */
  private sourceUrl: string;

  constructor(private readonly options: CaptureServiceOptions) {
    this.sourceUrl = sourceHostUrls(options.sourceUrl)[0] ?? options.sourceUrl;
  }

  status(): CaptureStatus {
    return {
      connected: this.stream !== undefined,
      durableLsn: this.stream?.durableLsn ?? this.durable,
      serverWalEnd: this.stream?.serverWalEnd ?? 0n,
      lastCommitTime: this.lastCommitTime,
      reconnects: this.reconnects,
    };
  }

  /** Runs until stop(); connection failures are retried with backoff, setup errors are thrown. */
  async run(): Promise<void> {
    const { options } = this;
    const heartbeat = new SourceHeartbeat(() => this.sourceUrl, options.heartbeatMs, options.logger);
    heartbeat.start();
    let failures = 0;
    try {
      while (!this.stopping) {
        try {
          await this.runSession();
          failures = 0;
        } catch (error) {
          if (this.stopping) break;
          if (error instanceof CheckpointMismatchError || !isTransient(error)) throw error;
          if (error instanceof ReplicationSilentError) this.abandonedBackend = error.backendPid;
          const delay = backoffDelay(options.reconnect ?? { initialMs: 250, maxMs: 15_000 }, failures++);
          this.reconnects++;
          options.logger.warn(
            { err: error, retryInMs: delay, durable: formatLsn(this.durable) },
            "replication session ended; reconnecting",
          );
          await new Promise<void>((resolve) => {
            this.wake = resolve;
            void sleep(delay).then(resolve);
          });
        }
      }
    } finally {
      await heartbeat.stop();
    }
  }

  /** Stops reading, waits until what was received is durable and confirmed, then returns. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    try {
      await this.pipeline?.drain();
    } catch (error) {
      this.options.logger.warn({ err: error }, "stopping with changes not yet stored; they will be read again");
    }
    await this.stream?.stop().catch(() => undefined);
  }

  private async runSession(): Promise<void> {
    const { options } = this;
    // Several source hosts: each session asks which one is the primary now (after a promotion, the new one).
    this.sourceUrl = await primaryUrl(options.sourceUrl);
    const sourceUrl = this.sourceUrl;
    const source = new pg.Client({ connectionString: sourceUrl, application_name: "ess-capture-setup" });
    const ledger = new pg.Client({ connectionString: options.ledgerUrl, application_name: "ess-capture" });
    source.on("error", () => undefined);
    ledger.on("error", (error) => options.logger.warn({ err: error }, "ledger connection error"));
    try {
      await source.connect();
      await ledger.connect();
      if (this.abandonedBackend !== undefined) {
        // Our own earlier session behind a hung path still holds the slot until the server's
        // wal_sender_timeout; end exactly that backend (never another process's session).
        await source.query(
          "select pg_terminate_backend(active_pid) from pg_replication_slots where slot_name = $1 and active_pid = $2",
          [options.slot, this.abandonedBackend],
        );
        this.abandonedBackend = undefined;
      }
      if (options.plugin === "pgoutput") await verifyPublication(source, options.publication, options.tables);
      const slot = await ensureSlot(source, options.slot, options.plugin, { failover: options.failover === true });
      if (options.failover && !slot.failover) {
        await enableSlotFailover(sourceUrl, options.slot);
        options.logger.info({ slot: options.slot }, "the replication slot is now a failover slot");
      }
      const version = await serverVersionNum(source);
      await source.end();
      const start = await this.resumePosition(ledger, slot.confirmedFlushLsn, slot.created);
      const setup = decoderSetup(options.plugin, options.publication, options.tables, version);
      const streamed = setup.streaming ? new StreamedChanges(options.schema, options.slot) : undefined;
      // The source sends every unconfirmed transaction again from its first segment.
      await streamed?.clear(ledger);
      const stream = new ReplicationStream(
        {
          connectionString: sourceUrl,
          slot: options.slot,
          startLsn: start,
          pluginOptions: setup.pluginOptions,
          sessionSettings: setup.sessionSettings,
          statusIntervalMs: options.statusIntervalMs,
          ...(options.silentAfterMs ? { silentAfterMs: options.silentAfterMs } : {}),
          logger: options.logger,
        },
        setup.decoder,
      );
      const pipeline = new CapturePipeline(
        ledger,
        new FeedWriter(options.schema, options.slot),
        (lsn) => {
          stream.confirm(lsn);
          this.durable = lsn;
        },
        options.logger,
        options.limits ?? DEFAULT_CAPTURE_LIMITS,
        {
          ...options.hooks,
          onDurable: (batch, inserted, commitTime) => {
            if (commitTime) this.lastCommitTime = commitTime;
            options.hooks?.onDurable?.(batch, inserted, commitTime);
          },
          onFailure: (error) => stream.abort(error),
        },
        streamed,
      );
      this.stream = stream;
      this.pipeline = pipeline;
      if (this.stopping) return;
      await stream.run(pipeline);
    } finally {
      this.stream = undefined;
      this.pipeline = undefined;
      await source.end().catch(() => undefined);
      await ledger.end().catch(() => undefined);
    }
  }

  /** Never moves the slot backwards, and never trusts a checkpoint of another server, timeline or slot. */
  private async resumePosition(ledger: pg.Client, slotConfirmed: Lsn, created: boolean): Promise<Lsn> {
    const { options } = this;
    const start = await trustedResumePosition(ledger, {
      sourceUrl: this.sourceUrl,
      schema: options.schema,
      slot: options.slot,
      slotState: { created, confirmedFlushLsn: slotConfirmed },
      acceptChange: options.acceptSourceChange ?? false,
      mappings: options.mappingNames ?? [],
      logger: options.logger,
    });
    // Stored but not yet confirmed when the last run ended: no need to read it again.
    this.durable = start;
    return start;
  }
}

/** Errors worth reconnecting for: connection loss, server restart, shutdown in progress, a slot still held. */
function isTransient(error: unknown): boolean {
  if (error instanceof ReplicationSilentError) return true;
  return TRANSIENT_KINDS.has(classifyPgError(error).kind);
}

// A slot still active for our previous walsender (object-in-use) or a server not yet accepting
// replication (prerequisite-state) clear up by themselves.
const TRANSIENT_KINDS: ReadonlySet<PgFailureKind> = new Set([
  "connection",
  "resources",
  "conflict",
  "object-in-use",
  "prerequisite-state",
]);
