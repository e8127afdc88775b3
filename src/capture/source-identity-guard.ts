// At every capture start: reads the server's identity and the ledger's checkpoint, refuses a
// checkpoint that belongs to another server, timeline or slot (naming what changed and the way
// out), and records the identity the checkpoint belongs to from now on.
import pg from "pg";
import type { Lsn } from "../change/change.js";
import { formatLsn } from "../change/lsn.js";
import { appendAudit } from "../ledger/audit.js";
import { readCheckpoint, resetCheckpoint } from "../ledger/checkpoints.js";
import { readSourceIdentity, recordSourceIdentity } from "../ledger/source-identity.js";
import type { Logger } from "../ops/logger.js";
import { readServerHistory } from "../source/server-identity.js";
import { judgeCheckpoint, type SlotAtStart } from "./checkpoint-trust.js";

export interface CheckpointMismatchErrorOptions {
  readonly slot: string;
  /** One sentence per thing that changed. */
  readonly mismatches: readonly string[];
  /** The operator's way out, one step per line. */
  readonly recovery: readonly string[];
}

/** The checkpoint does not belong to this slot: capture stops rather than skip or re-read changes silently. */
export class CheckpointMismatchError extends Error {
  override readonly name = "CheckpointMismatchError";
  readonly slot: string;
  readonly mismatches: readonly string[];
  readonly recovery: readonly string[];
  constructor({ slot, mismatches, recovery }: CheckpointMismatchErrorOptions) {
    super(
      `refusing to trust the ledger's checkpoint for replication slot ${slot}: ${mismatches.join("; ")}.\n` +
        `Recovery:\n${recovery.map((step, i) => `  ${i + 1}. ${step}`).join("\n")}`,
    );
    this.slot = slot;
    this.mismatches = mismatches;
    this.recovery = recovery;
  }
}

export interface GuardOptions {
  readonly sourceUrl: string;
  readonly schema: string;
  readonly slot: string;
  readonly slotState: SlotAtStart;
  readonly acceptChange: boolean;
  /** Mapping names, for the backfill step of the recovery. */
  readonly mappings: readonly string[];
  readonly logger: Logger;
}

export async function trustedResumePosition(ledger: pg.ClientBase, options: GuardOptions): Promise<Lsn> {
  const { schema, slot } = options;
  const [server, recorded, checkpoint] = [
    await readServerHistory(options.sourceUrl),
    await readSourceIdentity(ledger, schema, slot),
    await readCheckpoint(ledger, schema, slot),
  ];
  const verdict = judgeCheckpoint({
    slot,
    server,
    recorded,
    slotState: options.slotState,
    checkpoint,
    acceptChange: options.acceptChange,
  });
  if (!verdict.trust) {
    const error = new CheckpointMismatchError({
      slot,
      mismatches: verdict.mismatches,
      recovery: recoverySteps(options.mappings),
    });
    await appendAudit(ledger, schema, [
      {
        event: "source_mismatch",
        detail: {
          slot,
          checkpoint: checkpoint === null ? null : formatLsn(checkpoint),
          mismatches: verdict.mismatches,
        },
        error: error.message,
      },
    ]).catch((auditError: unknown) => options.logger.warn({ err: auditError }, "cannot audit the refused checkpoint"));
    // A slot this start created would make the next start look like an ordinary resume: drop it
    // (nothing was read from it), so the refusal stands until the operator accepts the change.
    if (options.slotState.created) await dropUnusedSlot(options.sourceUrl, slot, options.logger);
    throw error;
  }
  if (verdict.record) await recordSourceIdentity(ledger, schema, slot, verdict.record);
  if (verdict.accepted) {
    // The old checkpoint belongs to the old source or slot: from now on the new slot's positions count.
    await resetCheckpoint(ledger, schema, slot, verdict.start);
    options.logger.warn(
      { slot, start: formatLsn(verdict.start), accepted: verdict.accepted },
      "source change accepted: capture starts from the slot's own position; backfill the mappings to resend current rows",
    );
    await appendAudit(ledger, schema, [
      { event: "source_accepted", detail: { slot, start: formatLsn(verdict.start), accepted: verdict.accepted } },
    ]);
  } else if (checkpoint !== null && checkpoint < options.slotState.confirmedFlushLsn && !options.slotState.created) {
    // The idle heartbeat confirms the server's WAL end without a ledger write: a checkpoint behind the slot is normal.
    options.logger.debug(
      { checkpoint: formatLsn(checkpoint), slot: formatLsn(options.slotState.confirmedFlushLsn) },
      "the ledger checkpoint is behind the slot's confirmed position; starting from the slot",
    );
  }
  return verdict.start;
}

async function dropUnusedSlot(sourceUrl: string, slot: string, logger: Logger): Promise<void> {
  const source = new pg.Client({ connectionString: sourceUrl, application_name: "ess-capture-setup" });
  source.on("error", () => undefined);
  try {
    await source.connect();
    await source.query("select pg_drop_replication_slot($1)", [slot]);
  } catch (error) {
    logger.warn({ err: error, slot }, "cannot drop the slot created by the refused start");
  } finally {
    await source.end().catch(() => undefined);
  }
}

export function recoverySteps(mappings: readonly string[]): string[] {
  const each = mappings.length > 0 ? mappings.join(", ") : "<mapping>";
  return [
    "if the source was replaced, restored or failed over on purpose, start once with `essctl start --accept-source-change`: it records this server and slot and starts from the slot's own position",
    `then run \`essctl backfill <mapping>\` for each mapping (${each}) to resend the current rows; their idempotency tokens make resending unchanged rows safe`,
    "if the source URL is wrong, correct database.url (or ledger.url) instead",
  ];
}
