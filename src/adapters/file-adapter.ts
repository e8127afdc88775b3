// The file adapter: drops batches into a local or mounted directory, with the same naming and modes as sftp.
import type { ConnectorConfig, DropOptions } from "../config/types.js";
import type { Logger } from "../ops/logger.js";
import type { Adapter, Batch, ItemOutcome, SendContext } from "./adapter.js";
import { batchFileName, deliverDrop } from "./drop-delivery.js";
import type { DropNameInput } from "./drop-naming.js";
import { rotateDrop } from "./drop-rotation.js";
import { FileDropTarget } from "./file-target.js";

export type FileConnectorConfig = Extract<ConnectorConfig, { adapter: "file" }>;

export class FileAdapter implements Adapter {
  readonly kind = "file" as const;
  readonly takesBatchBody = true;
  readonly oneBatchAtATime: boolean;
  readonly rotateAfterMs: number | undefined;
  private readonly options: DropOptions;
  private readonly target: FileDropTarget;
  private readonly logger: Logger;
  private readonly name: string;

  constructor(connector: FileConnectorConfig, deps: { readonly logger: Logger }) {
    this.options = connector.file;
    this.oneBatchAtATime = connector.file.mode === "append";
    this.rotateAfterMs = connector.file.rotateMs;
    this.name = connector.name;
    this.target = new FileDropTarget(connector.file.dir);
    this.logger = deps.logger.child({ connector: connector.name, adapter: "file" });
  }

  batchName(batch: DropNameInput): string {
    return batchFileName(this.options, batch);
  }

  async send(batch: Batch, context: SendContext): Promise<readonly ItemOutcome[]> {
    return await deliverDrop(this.target, this.options, batch, context, this.logger);
  }

  async rotate(now: Date, signal: AbortSignal): Promise<readonly string[]> {
    return await rotateDrop(this.target, this.options, this.name, now, signal);
  }

  async heartbeat(signal: AbortSignal): Promise<void> {
    await this.target.checkDir(signal);
  }

  async close(): Promise<void> {}
}
