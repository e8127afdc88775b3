// The sftp adapter: drops batches into a partner's SFTP directory over one pinned, reused connection.
import type { ConnectorConfig } from "../config/types.js";
import type { Logger } from "../ops/logger.js";
import { DropAdapter } from "./drop-adapter.js";
import { DEFAULT_SFTP_TIMEOUTS, SftpConnection, type SftpTimeouts } from "./sftp-connection.js";
import { SftpDropTarget } from "./sftp-target.js";

export type SftpConnectorConfig = Extract<ConnectorConfig, { adapter: "sftp" }>;

export interface SftpAdapterDeps {
  readonly logger: Logger;
  /** Overrides of DEFAULT_SFTP_TIMEOUTS (tests use short ones). */
  readonly timeouts?: Partial<SftpTimeouts>;
}

export class SftpAdapter extends DropAdapter<"sftp"> {
  private readonly connection: SftpConnection;

  constructor(connector: SftpConnectorConfig, deps: SftpAdapterDeps) {
    const logger = deps.logger.child({ connector: connector.name, adapter: "sftp" });
    const timeouts = { ...DEFAULT_SFTP_TIMEOUTS, ...deps.timeouts };
    const connection = new SftpConnection(connector.name, connector.sftp, timeouts, logger);
    super("sftp", connector.name, connector.sftp, new SftpDropTarget(connection, connector.sftp.dir, logger), logger);
    this.connection = connection;
  }

  async close(): Promise<void> {
    await this.connection.close();
  }
}
