// Samples the replication slot on an interval: lag (bytes, seconds), retained WAL and the stall rule,
// warning once with the likely causes when replication stalls.
import type { CaptureStatus } from "../capture/capture-service.js";
import { parseLsn } from "../change/lsn.js";
import { redactSecrets } from "../config/secrets.js";
import { invalidatedSlotRecovery, invalidationSentence } from "../inspection/slot-invalidation.js";
import { readSlotStatus } from "../inspection/slot-status.js";
import { appendAudit } from "../ledger/audit.js";
import type { Queryable } from "../ledger/queryable.js";
import { lastCapturedCommit } from "../ledger/readings.js";
import type { Logger } from "./logger.js";
import type { EssMetrics } from "./metrics.js";
import { CAUGHT_UP_BYTES, replicationLagSeconds } from "./replication-lag.js";
import { diagnoseStall } from "./stall-diagnosis.js";
import { type StallTracker, trackStall } from "./stall-rule.js";

export interface ReplicationReading {
  readonly at: Date;
  readonly slot: string;
  readonly slotExists: boolean;
  /** The replication session of this process is connected. */
  readonly connected: boolean;
  readonly lagBytes: number;
  readonly lagSeconds: number;
  readonly retainedWalBytes: number;
  readonly confirmedFlushLsn: string | null;
  readonly currentLsn: string;
  readonly stalled: boolean;
  /** How long the slot's confirmed position has not moved. */
  readonly unchangedForMs: number;
  /** The likely causes named when the stall began (empty while not stalled). */
  readonly stallCauses: readonly string[];
  /** Why the slot can no longer stream (it is then stalled for good); null while usable. */
  readonly invalidation: string | null;
  /** The steps back from an invalidated slot; empty otherwise. */
  readonly recovery: readonly string[];
}

export interface ReplicationMonitorOptions {
  /** The source database (where the slot lives). */
  readonly source: Queryable;
  readonly ledger: Queryable;
  readonly schema: string;
  readonly slot: string;
  readonly stallAfterMs: number;
  readonly capture: () => CaptureStatus | undefined;
  readonly logger: Logger;
  readonly metrics?: EssMetrics;
  /** Mapping names, for the backfill step of a recovery. */
  readonly mappings?: readonly string[];
  /** Sampling interval; default a quarter of stallAfter, between 250 ms and 5 s. */
  readonly intervalMs?: number;
}

export class ReplicationMonitor {
  private tracker: StallTracker | undefined;
  private reading: ReplicationReading | undefined;
  private sampling: Promise<ReplicationReading | undefined> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastCaughtUpAt: number | undefined;
  /** The ledger's newest stored commit, read once while this process has captured nothing yet. */
  private storedCommit: Date | null | undefined;
  private causes: readonly string[] = [];
  private reportingStall = false;
  private reportedInvalidation: string | null = null;
  private failing = false;

  constructor(private readonly options: ReplicationMonitorOptions) {}

  get intervalMs(): number {
    return this.options.intervalMs ?? Math.min(5_000, Math.max(250, Math.floor(this.options.stallAfterMs / 4)));
  }

  start(): void {
    if (this.timer) return;
    void this.read(0);
    this.timer = setInterval(() => void this.read(0), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.sampling;
  }

  latest(): ReplicationReading | undefined {
    return this.reading;
  }

  get stalled(): boolean {
    return this.reading?.stalled ?? false;
  }

  /** A reading no older than `maxAgeMs` (one query at a time, whoever asks); undefined until the slot was read once. */
  read(maxAgeMs: number): Promise<ReplicationReading | undefined> {
    if (this.reading && Date.now() - this.reading.at.getTime() <= maxAgeMs) return Promise.resolve(this.reading);
    this.sampling ??= this.sample().finally(() => {
      this.sampling = undefined;
    });
    return this.sampling;
  }

  private async sample(): Promise<ReplicationReading | undefined> {
    const { options } = this;
    const capture = options.capture();
    options.metrics?.setReplicationConnected(capture?.connected ?? false);
    try {
      const status = await readSlotStatus(options.source, options.slot);
      const now = Date.now();
      const verdict = trackStall(
        this.tracker,
        {
          at: now,
          confirmedLsn: status.confirmedFlushLsn ? parseLsn(status.confirmedFlushLsn) : null,
          currentLsn: parseLsn(status.currentLsn),
        },
        options.stallAfterMs,
      );
      this.tracker = verdict.tracker;
      if (status.lagBytes <= CAUGHT_UP_BYTES) this.lastCaughtUpAt = now;
      const lagSeconds = replicationLagSeconds({
        lagBytes: status.lagBytes,
        lastCommit: capture?.lastCommitTime ?? (await this.storedCommitTime()),
        lastCaughtUpAt: this.lastCaughtUpAt,
        now,
      });
      if (verdict.stalled && !this.reportingStall) {
        this.reportingStall = true;
        await this.reportStall(status.lagBytes, verdict.unchangedForMs, capture?.connected ?? false);
      } else if (verdict.stalled) {
        // Still stalled: the causes are read again (a capture that connected since may now wait
        // on a lock), logged only when the stall began.
        this.causes = await this.diagnose(capture?.connected ?? false);
      } else if (!verdict.stalled && this.reportingStall) {
        this.reportingStall = false;
        this.causes = [];
        options.logger.info({ slot: options.slot, lagBytes: status.lagBytes }, "replication is moving again");
      }
      const invalidation = status.invalidation;
      if (invalidation !== this.reportedInvalidation) {
        this.reportedInvalidation = invalidation;
        if (invalidation) await this.reportInvalidation(invalidation);
      }
      this.reading = {
        at: new Date(now),
        slot: options.slot,
        slotExists: status.exists,
        connected: capture?.connected ?? false,
        lagBytes: status.lagBytes,
        lagSeconds,
        retainedWalBytes: status.retainedWalBytes,
        confirmedFlushLsn: status.confirmedFlushLsn,
        currentLsn: status.currentLsn,
        stalled: verdict.stalled || invalidation !== null,
        unchangedForMs: verdict.unchangedForMs,
        stallCauses: invalidation ? [invalidationSentence(options.slot, invalidation)] : this.causes,
        invalidation,
        recovery: invalidation ? invalidatedSlotRecovery(options.slot, options.mappings ?? []) : [],
      };
      options.metrics?.setReplication(this.reading);
      if (this.failing) options.logger.info({ slot: options.slot }, "the replication slot can be read again");
      this.failing = false;
      return this.reading;
    } catch (error) {
      // Logged once per streak: the scrape goes on with the last values, readiness reports the outage.
      if (!this.failing) {
        options.logger.warn(
          { slot: options.slot, err: { message: redactSecrets(String((error as Error)?.message ?? error)) } },
          "cannot read the replication slot status; metrics keep their last values",
        );
      }
      this.failing = true;
      return this.reading;
    }
  }

  private diagnose(connected: boolean): Promise<string[]> {
    const { options } = this;
    return diagnoseStall({
      source: options.source,
      ledger: options.ledger,
      schema: options.schema,
      replicationConnected: connected,
      stallAfterMs: options.stallAfterMs,
    });
  }

  /** Once per invalidation: an error line and an audit row, with the steps back. */
  private async reportInvalidation(reason: string): Promise<void> {
    const { options } = this;
    const recovery = invalidatedSlotRecovery(options.slot, options.mappings ?? []);
    const sentence = invalidationSentence(options.slot, reason);
    options.logger.error({ slot: options.slot, reason, recovery }, sentence);
    try {
      await appendAudit(options.ledger, options.schema, [
        { event: "slot_invalidated", detail: { slot: options.slot, reason, recovery }, error: sentence },
      ]);
    } catch (error) {
      options.logger.warn({ err: error }, "cannot audit the invalidated slot");
    }
  }

  private async storedCommitTime(): Promise<Date | null | undefined> {
    if (this.storedCommit !== undefined) return this.storedCommit;
    try {
      this.storedCommit = await lastCapturedCommit(this.options.ledger, this.options.schema, this.options.slot);
    } catch (error) {
      // Lag in seconds falls back to the caught-up bound; the ledger outage shows on /readyz.
      this.options.logger.debug({ err: error }, "cannot read the ledger's last captured commit");
    }
    return this.storedCommit;
  }

  private async reportStall(lagBytes: number, unchangedForMs: number, connected: boolean): Promise<void> {
    const { options } = this;
    this.causes = await this.diagnose(connected);
    options.logger.warn(
      { slot: options.slot, lagBytes, unchangedForMs, stallAfterMs: options.stallAfterMs, causes: this.causes },
      `replication stalled: the slot's confirmed position has not moved for ${Math.round(unchangedForMs / 1000)} s while the server wrote WAL`,
    );
  }
}
