// Where each drop connector's files land on this machine and how to show them; creates those directories.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { EssConfig } from "../config/index.js";
import type { CompiledMapping } from "../mapping/index.js";
import type { DropPartnerView } from "./partner-report.js";

export interface SftpDropBox {
  /** The local directory the SFTP partner serves as "/". */
  readonly root: string;
  readonly address: string;
}

export async function prepareDropViews(
  config: EssConfig,
  mappings: readonly CompiledMapping[],
  sftp: SftpDropBox,
): Promise<DropPartnerView[]> {
  const views: DropPartnerView[] = [];
  for (const connector of config.connectors) {
    if (connector.adapter !== "sftp" && connector.adapter !== "file") continue;
    const localDir =
      connector.adapter === "sftp" ? join(sftp.root, ...connector.sftp.dir.split("/")) : connector.file.dir;
    await mkdir(localDir, { recursive: true });
    const found = mappings
      .flatMap((m) => m.targets.map((target) => ({ target, config: m.config.targets[target.index] })))
      .find((t) => t.target.connector === connector.name);
    // Without a terminator (RECFM=F) records can only be told apart by their length.
    const recordLength = found?.config?.terminator === "none" ? found.target.recordLength : undefined;
    views.push({
      connector: connector.name,
      where: connector.adapter === "sftp" ? `SFTP ${sftp.address} ${connector.sftp.dir}` : `directory ${localDir}`,
      what:
        `${connector.encoding} ${found?.target.format ?? "records"}` +
        (recordLength ? `, RECFM=F ${recordLength}-byte records, decoded and in hex` : ", decoded"),
      localDir,
      layout: { encoding: connector.encoding, ...(recordLength ? { fixedRecordLength: recordLength } : {}) },
    });
  }
  return views;
}
