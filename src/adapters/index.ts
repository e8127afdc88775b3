// Creates the adapter a connector names (sftp, ftp, file, soap, rest), wrapped for dryRun when asked.
import type { ConnectorConfig } from "../config/types.js";
import type { Logger } from "../ops/logger.js";
import type { Adapter } from "./adapter.js";
import { DryRunAdapter } from "./dry-run-adapter.js";
import { FileAdapter } from "./file-adapter.js";
import { FtpAdapter } from "./ftp-adapter.js";
import { RestAdapter } from "./rest-adapter.js";
import { SftpAdapter } from "./sftp-adapter.js";
import { SoapAdapter } from "./soap-adapter.js";

export { type Adapter, AdapterError, type Batch, type DeliveryItem, type ItemOutcome } from "./adapter.js";

export function createAdapter(connector: ConnectorConfig, deps: { readonly logger: Logger }): Adapter {
  // Each adapter binds `connector` (and `adapter`) to its own logger; binding it here too would
  // write the key twice in every line.
  const { logger } = deps;
  let adapter: Adapter;
  switch (connector.adapter) {
    case "sftp":
      adapter = new SftpAdapter(connector, { logger });
      break;
    case "ftp":
      adapter = new FtpAdapter(connector, { logger });
      break;
    case "file":
      adapter = new FileAdapter(connector, { logger });
      break;
    case "soap":
      adapter = new SoapAdapter(connector, { logger });
      break;
    case "rest":
      adapter = new RestAdapter(connector, { logger });
      break;
  }
  return connector.dryRun ? new DryRunAdapter(adapter) : adapter;
}
