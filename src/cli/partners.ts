// essctl partners: the demo's SFTP, SOAP and REST partners as a long-running service, for a local
// stack (docker-compose.yml) or for trying `essctl start` against something that answers.
import { resolve } from "node:path";
import { type EssctlCommand, EXIT, UsageError } from "./cli-options.js";

const DEFAULT_PORTS = { sftp: 2222, soap: 8088, rest: 8089 } as const;

function portOption(value: unknown, option: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new UsageError(`${option} must be a TCP port (0 to 65535), not ${String(value)}`, option);
  }
  return port;
}

export const partnersCommand: EssctlCommand = {
  usage: "partners",
  description:
    "run stand-in partners for the shipped connectors (SFTP drop, SOAP scheduler, REST bridge) until SIGTERM",
  configure(command) {
    command
      .option("--listen <host>", "address the partners listen on", "127.0.0.1")
      .option("--sftp-port <port>", "SFTP drop box port", String(DEFAULT_PORTS.sftp))
      .option("--soap-port <port>", "SOAP scheduler port", String(DEFAULT_PORTS.soap))
      .option("--rest-port <port>", "REST bridge port", String(DEFAULT_PORTS.rest))
      .option(
        "--state-dir <dir>",
        "keeps the SFTP host key (so its pin holds across restarts) and the uploaded files",
        "./ess-partners",
      );
  },
  async run(context, _args, options) {
    const ports = {
      sftp: portOption(options.sftpPort, "--sftp-port"),
      soap: portOption(options.soapPort, "--soap-port"),
      rest: portOption(options.restPort, "--rest-port"),
    };
    const { startStandInPartners } = await import("../demo/stand-in-partners.js");
    const partners = await startStandInPartners({
      stateDir: resolve(String(options.stateDir)),
      host: String(options.listen),
      ports,
      env: context.env,
      print: context.output.print,
    });
    context.output.print(`Pin the SFTP host key with CITY_SFTP_HOST_KEY=${partners.hostKey}. Stop with SIGTERM.`);
    await new Promise<void>((done) => {
      if (context.signal.aborted) done();
      else context.signal.addEventListener("abort", () => done(), { once: true });
    });
    await partners.stop();
    return EXIT.ok;
  },
};
