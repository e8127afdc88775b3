// Readiness for /readyz: replication connected and moving, the ledger reachable, the process not stopping.
import { redactSecrets } from "../config/secrets.js";
import type { ReplicationReading } from "./replication-monitor.js";

export interface ReadinessCheck {
  readonly ok: boolean;
  readonly detail: string;
}

export interface ReadinessReport {
  readonly ready: boolean;
  /** leader (captures), standby (takes over capture when the leader goes) or delivery-only. */
  readonly role: "leader" | "standby" | "delivery-only";
  /** One line per failed check; empty when ready. */
  readonly reasons: readonly string[];
  readonly checks: {
    readonly replication: ReadinessCheck;
    readonly ledger: ReadinessCheck;
    readonly stall: ReadinessCheck & { readonly causes?: readonly string[]; readonly recovery?: readonly string[] };
    readonly process: ReadinessCheck;
  };
}

export interface ReadinessSources {
  /** False for a delivery-only process (`essctl start --no-capture`): replication is not its job. */
  readonly captureEnabled: boolean;
  /** Undefined until the process competes for capture leadership. */
  readonly role: () => "leader" | "standby" | "delivery-only" | undefined;
  readonly replicationConnected: () => boolean;
  /** Resolves when the ledger answers; rejects (with a bounded wait) otherwise. */
  readonly pingLedger: () => Promise<void>;
  readonly replication: () => ReplicationReading | undefined;
  readonly stopping: () => boolean;
}

/** A ledger answer counts for this long, so a burst of probes costs one query. */
const LEDGER_CACHE_MS = 1_000;

export class Readiness {
  private ledger: { at: number; check: ReadinessCheck } | undefined;
  private pinging: Promise<ReadinessCheck> | undefined;

  constructor(private readonly sources: ReadinessSources) {}

  async report(): Promise<ReadinessReport> {
    const { sources } = this;
    const role = sources.role();
    const replication: ReadinessCheck = !sources.captureEnabled
      ? { ok: true, detail: "not run by this process (delivery only)" }
      : role === "standby"
        ? { ok: true, detail: "standby: another process captures; this one takes over when it goes" }
        : sources.replicationConnected()
          ? { ok: true, detail: "connected" }
          : { ok: false, detail: "replication is not connected" };
    const ledger = await this.ledgerCheck();
    const reading = sources.captureEnabled ? sources.replication() : undefined;
    const stall = reading?.invalidation
      ? {
          ok: false,
          detail: `replication slot ${reading.slot} is invalidated (${reading.invalidation}): changes were lost to it; recovery: ${reading.recovery.join("; then ")}`,
          causes: reading.stallCauses,
          recovery: reading.recovery,
        }
      : reading?.stalled
        ? {
            ok: false,
            detail: `replication stalled: slot ${reading.slot} has not confirmed anything for ${Math.round(reading.unchangedForMs / 1000)} s while the server wrote WAL`,
            causes: reading.stallCauses,
          }
        : { ok: true, detail: reading ? "moving" : "not sampled yet" };
    const process: ReadinessCheck = sources.stopping()
      ? { ok: false, detail: "stopping" }
      : { ok: true, detail: "running" };
    const checks = { replication, ledger, stall, process };
    const reasons = Object.values(checks)
      .filter((c) => !c.ok)
      .map((c) => c.detail);
    return { ready: reasons.length === 0, role: role ?? "standby", reasons, checks };
  }

  private async ledgerCheck(): Promise<ReadinessCheck> {
    if (this.ledger && Date.now() - this.ledger.at <= LEDGER_CACHE_MS) return this.ledger.check;
    this.pinging ??= this.sources
      .pingLedger()
      .then(
        (): ReadinessCheck => ({ ok: true, detail: "reachable" }),
        (error: unknown): ReadinessCheck => ({
          ok: false,
          detail: `the ledger is unreachable: ${redactSecrets(error instanceof Error ? error.message : String(error))}`,
        }),
      )
      .then((check) => {
        this.ledger = { at: Date.now(), check };
        return check;
      })
      .finally(() => {
        this.pinging = undefined;
      });
    return this.pinging;
  }
}
