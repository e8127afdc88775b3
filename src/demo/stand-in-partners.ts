// The demo's partners as a long-running service (essctl partners): the city hall's SFTP drop box,
// the county's SOAP scheduler and the GIS REST bridge, with the credentials the shipped
// connectors read from the environment and an SFTP host key kept in a state directory, so a pin
// made once holds across restarts.
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { PartnerListen } from "./partner-listen.js";
import { startRestPartner } from "./rest-partner.js";
import { generateHostKey, startSftpPartner } from "./sftp-partner.js";
import { startSoapPartner } from "./soap-partner.js";

export interface StandInPartnerOptions {
  /** Holds the SFTP host key, its fingerprint and the files partners receive. */
  readonly stateDir: string;
  readonly host: string;
  readonly ports: { readonly sftp: number; readonly soap: number; readonly rest: number };
  /** The shipped connectors' variables (CITY_SFTP_USER, CITY_SFTP_PASSWORD, COUNTY_USER, COUNTY_PASS, GIS_KEY). */
  readonly env: NodeJS.ProcessEnv;
  /** One line per event: what started, what each partner received. */
  readonly print: (line: string) => void;
}

export interface StandInPartners {
  /** The SFTP host key fingerprint, as the connector's hostKey pins it. */
  readonly hostKey: string;
  stop(): Promise<void>;
}

/** Key and fingerprint file names in the state directory. */
export const HOST_KEY_FILE = "sftp_host_ed25519_key";
export const HOST_KEY_FINGERPRINT_FILE = "sftp_host_key.fingerprint";

const PACKAGE_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const COUNTY_WSDL = join(PACKAGE_ROOT, "connectors", "county_scheduler.wsdl");

/** The same defaults as the shipped connectors, so both sides agree with nothing set. */
function credentials(env: NodeJS.ProcessEnv) {
  return {
    sftpUser: env.CITY_SFTP_USER || "ess",
    sftpPassword: env.CITY_SFTP_PASSWORD || "change-me",
    soapUser: env.COUNTY_USER || "ess",
    soapPassword: env.COUNTY_PASS || "change-me",
    gisKey: env.GIS_KEY || "demo-key",
  };
}

export async function startStandInPartners(options: StandInPartnerOptions): Promise<StandInPartners> {
  const { stateDir, print } = options;
  const given = credentials(options.env);
  await mkdir(stateDir, { recursive: true });
  const hostKey = await storedHostKey(join(stateDir, HOST_KEY_FILE));
  const root = join(stateDir, "sftp");
  await mkdir(join(root, "IN"), { recursive: true });
  const listen = (port: number): PartnerListen => ({ host: options.host, port });

  const stops: (() => Promise<void>)[] = [];
  try {
    const sftp = await startSftpPartner(root, given.sftpUser, {
      listen: listen(options.ports.sftp),
      password: given.sftpPassword,
      hostKey,
    });
    stops.push(() => sftp.stop());
    await writeFile(join(stateDir, HOST_KEY_FINGERPRINT_FILE), `${sftp.hostKey}\n`);
    print(`SFTP  ${sftp.host}:${sftp.port}  user ${sftp.username}, host key ${sftp.hostKey}, uploads in ${root}/IN`);

    const soap = await startSoapPartner({
      wsdlFile: COUNTY_WSDL,
      service: "SchedulerService",
      port: "SchedulerPort",
      operation: "Reschedule",
      path: "/soap/scheduler",
      username: given.soapUser,
      password: given.soapPassword,
      listen: listen(options.ports.soap),
      onCall: (call) =>
        print(`SOAP  ${call.operation} token=${call.token ?? "-"} user=${call.username ?? "-"} → ${call.answer}`),
    });
    stops.push(() => soap.stop());
    print(`SOAP  ${soap.url}  WS-Security user ${soap.username}`);

    const rest = await startRestPartner({
      path: "/api/bridge",
      healthPath: "/health",
      apiKey: given.gisKey,
      listen: listen(options.ports.rest),
      onRequest: (request) =>
        print(`REST  ${request.method} ${request.path} key=${request.idempotencyKey ?? "-"} → ${request.status}`),
    });
    stops.push(() => rest.stop());
    print(`REST  ${rest.url}  (health ${rest.healthUrl}), X-API-Key required`);

    return {
      hostKey: sftp.hostKey,
      stop: async () => {
        for (const stop of stops.reverse()) await stop();
      },
    };
  } catch (error) {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    throw error;
  }
}

/** Reads the host key, or creates it (owner-only) on the first start. */
async function storedHostKey(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const key = generateHostKey();
  await writeFile(file, key, { mode: 0o600, flag: "wx" });
  await chmod(file, 0o600);
  return key;
}
