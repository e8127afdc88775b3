// Says which local partner the demo started for each shipped connector, and how it paces them.
import type { ConnectorConfig, EssConfig } from "../config/index.js";
import { DEMO_PACING } from "./demo-config.js";
import { RETRIED_PERMIT } from "./demo-workload.js";

/** One line per connector saying which local partner stands in for it, then the demo's pacing. */
export function partnerListLines(config: EssConfig, at: PartnerAddresses): string[] {
  const lines = config.connectors.map(
    (connector) => `  ${connector.name.padEnd(17)} ${connector.adapter.padEnd(5)} ${describePartner(connector, at)}`,
  );
  lines.push(
    `Pacing: batches close after ${DEMO_PACING.batchWaitMs} ms and partners are probed every ${DEMO_PACING.heartbeatMs} ms ` +
      "(the shipped files wait up to 60 s); CITY_SCHEDULE=always opens the city hall's office-hours window.",
  );
  return lines;
}

export interface PartnerAddresses {
  readonly sftp: string;
  readonly soap: string;
  readonly rest: string;
}

function describePartner(connector: ConnectorConfig, at: PartnerAddresses): string {
  switch (connector.adapter) {
    case "sftp":
      // The shipped connector logs in with a password: an OpenSSH sshd could only check it against a system account.
      return (
        `in-process SFTP server (ssh2) on ${at.sftp}, password login, pinned host key ${connector.sftp.hostKey} ` +
        "(not /usr/sbin/sshd: it checks passwords against system accounts only)"
      );
    case "soap":
      return `SOAP server built from connectors/county_scheduler.wsdl at ${at.soap}, checks the WS-Security UsernameToken`;
    case "rest":
      return `HTTP endpoint ${at.rest}, checks X-API-Key; answers 503 (Retry-After: 1) once for ${RETRIED_PERMIT}`;
    case "file":
      return `directory ${connector.file.dir}`;
    case "ftp":
      return `none: the demo stands in no FTP server (${connector.ftp.host}:${connector.ftp.port} is not contacted)`;
  }
}
