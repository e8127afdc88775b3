// What the file, sftp and ftp adapters share: batches become files in a drop directory, named,
// written, appended and rotated by the shared drop code; each adapter brings only its target.
import type { DropOptions } from "../config/types.js";
import type { Logger } from "../ops/logger.js";
import type { Adapter, Batch, ItemOutcome, SendContext } from "./adapter.js";
import { batchFileName, deliverDrop } from "./drop-delivery.js";
import type { DropNameInput } from "./drop-naming.js";
import { rotateDrop } from "./drop-rotation.js";
import type { DropTarget } from "./drop-target.js";

export abstract class DropAdapter<Kind extends "file" | "sftp" | "ftp"> implements Adapter {
  readonly takesBatchBody = true;
  /** An append file grows in order: one batch at a time. */
  readonly oneBatchAtATime: boolean;
  readonly rotateAfterMs: number | undefined;

  protected constructor(
    readonly kind: Kind,
    private readonly connector: string,
    private readonly options: DropOptions,
    private readonly target: DropTarget,
    protected readonly logger: Logger,
  ) {
    this.oneBatchAtATime = options.mode === "append";
    this.rotateAfterMs = options.rotateMs;
  }

  batchName(batch: DropNameInput): string {
    return batchFileName(this.options, batch);
  }

  async send(batch: Batch, context: SendContext): Promise<readonly ItemOutcome[]> {
    return await deliverDrop(this.target, this.options, batch, context, this.logger);
  }

  async rotate(now: Date, signal: AbortSignal): Promise<readonly string[]> {
    return await rotateDrop(this.target, this.options, this.connector, now, signal);
  }

  /** Connects (or reuses the connection) and checks that the drop directory is there. */
  async heartbeat(signal: AbortSignal): Promise<void> {
    await this.target.checkDir(signal);
  }

  abstract close(): Promise<void>;
}
