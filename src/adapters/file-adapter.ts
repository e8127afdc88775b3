// The file adapter: drops batches into a local or mounted directory, with the same naming and modes as sftp.
import type { ConnectorConfig } from "../config/types.js";
import type { Logger } from "../ops/logger.js";
import { DropAdapter } from "./drop-adapter.js";
import { FileDropTarget } from "./file-target.js";

export type FileConnectorConfig = Extract<ConnectorConfig, { adapter: "file" }>;

export class FileAdapter extends DropAdapter<"file"> {
  constructor(connector: FileConnectorConfig, deps: { readonly logger: Logger }) {
    const logger = deps.logger.child({ connector: connector.name, adapter: "file" });
    super("file", connector.name, connector.file, new FileDropTarget(connector.file.dir), logger);
  }

  async close(): Promise<void> {}
}
