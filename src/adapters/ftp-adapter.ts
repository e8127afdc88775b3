// The ftp adapter: drops batches into a partner's FTP directory over explicit TLS (FTPS), with the sftp adapter's drop semantics.
import type { ConnectorConfig, FtpOptions } from "../config/types.js";
import type { Logger } from "../ops/logger.js";
import type { Adapter, Batch, ItemOutcome, SendContext } from "./adapter.js";
import { batchFileName, deliverDrop } from "./drop-delivery.js";
import type { DropNameInput } from "./drop-naming.js";
import { rotateDrop } from "./drop-rotation.js";
import { DEFAULT_FTP_TIMEOUTS, FtpConnection, type FtpTimeouts } from "./ftp-connection.js";
import { FtpDropTarget } from "./ftp-target.js";

export type FtpConnectorConfig = Extract<ConnectorConfig, { adapter: "ftp" }>;

export interface FtpAdapterDeps {
  readonly logger: Logger;
  /** Overrides of DEFAULT_FTP_TIMEOUTS (tests use short ones). */
  readonly timeouts?: Partial<FtpTimeouts>;
}

export class FtpAdapter implements Adapter {
  readonly kind = "ftp" as const;
  readonly takesBatchBody = true;
  readonly oneBatchAtATime: boolean;
  readonly rotateAfterMs: number | undefined;
  private readonly options: FtpOptions;
  private readonly connection: FtpConnection;
  private readonly target: FtpDropTarget;
  private readonly logger: Logger;
  private readonly name: string;

  constructor(connector: FtpConnectorConfig, deps: FtpAdapterDeps) {
    this.options = connector.ftp;
    this.oneBatchAtATime = connector.ftp.mode === "append";
    this.rotateAfterMs = connector.ftp.rotateMs;
    this.name = connector.name;
    this.logger = deps.logger.child({ connector: connector.name, adapter: "ftp" });
    const timeouts = { ...DEFAULT_FTP_TIMEOUTS, ...deps.timeouts };
    this.connection = new FtpConnection(connector.name, connector.ftp, timeouts, this.logger);
    this.target = new FtpDropTarget(this.connection, connector.ftp.dir, this.logger);
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

  /** Connects (or reuses the connection) and checks that the drop directory is there. */
  async heartbeat(signal: AbortSignal): Promise<void> {
    await this.target.checkDir(signal);
  }

  async close(): Promise<void> {
    await this.connection.close();
  }
}
