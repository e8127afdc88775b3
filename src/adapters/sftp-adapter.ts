// The sftp adapter: drops batches into a partner's SFTP directory over one pinned, reused connection.
import type { ConnectorConfig, SftpOptions } from "../config/types.js";
import type { Logger } from "../ops/logger.js";
import type { Adapter, Batch, ItemOutcome, SendContext } from "./adapter.js";
import { batchFileName, deliverDrop } from "./drop-delivery.js";
import type { DropNameInput } from "./drop-naming.js";
import { rotateDrop } from "./drop-rotation.js";
import { DEFAULT_SFTP_TIMEOUTS, SftpConnection, type SftpTimeouts } from "./sftp-connection.js";
import { SftpDropTarget } from "./sftp-target.js";

export type SftpConnectorConfig = Extract<ConnectorConfig, { adapter: "sftp" }>;

export interface SftpAdapterDeps {
  readonly logger: Logger;
  /** Overrides of DEFAULT_SFTP_TIMEOUTS (tests use short ones). */
  readonly timeouts?: Partial<SftpTimeouts>;
}

export class SftpAdapter implements Adapter {
  readonly kind = "sftp" as const;
  readonly takesBatchBody = true;
  readonly oneBatchAtATime: boolean;
  readonly rotateAfterMs: number | undefined;
  private readonly options: SftpOptions;
  private readonly connection: SftpConnection;
  private readonly target: SftpDropTarget;
  private readonly logger: Logger;
  private readonly name: string;

  constructor(connector: SftpConnectorConfig, deps: SftpAdapterDeps) {
    this.options = connector.sftp;
    this.oneBatchAtATime = connector.sftp.mode === "append";
    this.rotateAfterMs = connector.sftp.rotateMs;
    this.name = connector.name;
    this.logger = deps.logger.child({ connector: connector.name, adapter: "sftp" });
    const timeouts = { ...DEFAULT_SFTP_TIMEOUTS, ...deps.timeouts };
    this.connection = new SftpConnection(connector.name, connector.sftp, timeouts, this.logger);
    this.target = new SftpDropTarget(this.connection, connector.sftp.dir, this.logger);
  }

  batchName(batch: DropNameInput): string {
    return batchFileName(this.options, batch);
  }

  async send(batch: Batch, context: SendContext): Promise<readonly ItemOutcome[]> {
    return await deliverDrop(this.target, this.options, batch, context, this.logger);
  }

  /** Connects (or reuses the connection) and checks that the drop directory is there. */
  async rotate(now: Date, signal: AbortSignal): Promise<readonly string[]> {
    return await rotateDrop(this.target, this.options, this.name, now, signal);
  }

  async heartbeat(signal: AbortSignal): Promise<void> {
    await this.target.checkDir(signal);
  }

  async close(): Promise<void> {
    await this.connection.close();
  }
}
