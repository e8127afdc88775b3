// The ftp adapter: drops batches into a partner's FTP directory over explicit TLS (FTPS), with the sftp adapter's drop semantics.
import type { ConnectorConfig } from "../config/types.js";
import type { Logger } from "../ops/logger.js";
import { DropAdapter } from "./drop-adapter.js";
import { DEFAULT_FTP_TIMEOUTS, FtpConnection, type FtpTimeouts } from "./ftp-connection.js";
import { FtpDropTarget } from "./ftp-target.js";

export type FtpConnectorConfig = Extract<ConnectorConfig, { adapter: "ftp" }>;

export interface FtpAdapterDeps {
  readonly logger: Logger;
  /** Overrides of DEFAULT_FTP_TIMEOUTS (tests use short ones). */
  readonly timeouts?: Partial<FtpTimeouts>;
}

export class FtpAdapter extends DropAdapter<"ftp"> {
  private readonly connection: FtpConnection;

  constructor(connector: FtpConnectorConfig, deps: FtpAdapterDeps) {
    const logger = deps.logger.child({ connector: connector.name, adapter: "ftp" });
    const timeouts = { ...DEFAULT_FTP_TIMEOUTS, ...deps.timeouts };
    const connection = new FtpConnection(connector.name, connector.ftp, timeouts, logger);
    super("ftp", connector.name, connector.ftp, new FtpDropTarget(connection, connector.ftp.dir, logger), logger);
    this.connection = connection;
  }

  async close(): Promise<void> {
    await this.connection.close();
  }
}
