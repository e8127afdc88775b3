// The ftp connector section: the shipped example loads, its defaults, and the pin and insecure rules.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigErrors, loadConfig } from "../../src/config/index.js";
import { type ConfigDir, writeConfigDir, yaml } from "./config-dir.js";

const ESS = yaml(
  "database:",
  "  url: postgres://ess@127.0.0.1:5432/hms",
  "replication:",
  "  slot: ess_main",
  "  publication: ess_pub",
);
const EXAMPLE = join(import.meta.dirname, "../../docs/examples/state_archive_ftps.yaml");

describe("ftp connectors", () => {
  const dirs: ConfigDir[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((d) => d.remove()));
  });
  async function load(connector: string, env: Record<string, string> = {}) {
    const dir = await writeConfigDir({ "ess.yaml": ESS, "connectors/c.yaml": connector });
    dirs.push(dir);
    return await loadConfig(dir.path("ess.yaml"), { env });
  }
  async function errors(connector: string): Promise<string[]> {
    try {
      await load(connector);
    } catch (error) {
      if (error instanceof ConfigErrors) return error.errors.map((e) => `${e.line} ${e.path}: ${e.message}`);
      throw error;
    }
    return [];
  }

  it("the shipped example loads as written: TLS with a pinned certificate, rotation, done files", async () => {
    const config = await load(await readFile(EXAMPLE, "utf8"), { ARCHIVE_FTP_PASSWORD: "pw" });
    const connector = config.connectors[0];
    expect(connector?.adapter).toBe("ftp");
    if (connector?.adapter !== "ftp") return;
    expect(connector.ftp).toMatchObject({
      host: "ftp.archive.state.gov",
      port: 21,
      password: "pw",
      insecure: false,
      certFingerprint: "3F8A27C4195EB06DE271940C5BAD36F841C70E926BD518A37FE04C29B6935D01",
      dir: "/IN",
      mode: "file-per-batch",
      doneFile: "{file}.done",
      rotateMs: 30 * 86_400_000,
    });
  });

  it("defaults to port 21 and TLS verified against the system's CAs; accepts the fingerprint as openssl prints it", async () => {
    const config = await load(
      yaml(
        "name: archive",
        "adapter: ftp",
        "ftp:",
        "  host: 127.0.0.1",
        "  username: ess",
        "  password: pw",
        `  certFingerprint: "sha256 Fingerprint=${"ab:".repeat(31)}cd"`,
        "  dir: /IN",
        '  file: "p_{batch}.txt"',
      ),
    );
    const connector = config.connectors[0];
    if (connector?.adapter !== "ftp") throw new Error("not an ftp connector");
    expect(connector.ftp.port).toBe(21);
    expect(connector.ftp.insecure).toBe(false);
    expect(connector.ftp.certFingerprint).toBe(`${"AB".repeat(31)}CD`);
    expect(connector.ftp.caFile).toBeUndefined();
  });

  it("names the line and field of each mistake", async () => {
    expect(
      await errors(
        yaml(
          "name: archive",
          "adapter: ftp",
          "ftp:",
          "  host: 127.0.0.1",
          "  username: ess",
          "  caFile: ./missing.pem",
          "  insecure: yes please",
          "  dir: /IN",
          '  file: "p.txt"',
          "pull: { dir: /OUT, file: 'ack_*' }",
        ),
      ),
    ).toEqual([
      expect.stringMatching(/^3 ftp.password: .*missing required key "password"/),
      expect.stringMatching(/^6 ftp.caFile: .*CA file not found/),
      expect.stringMatching(/^7 ftp.insecure: .*expected true or false/),
      expect.stringMatching(/^9 ftp.file: .*no \{batch\}/),
      expect.stringMatching(/^10 pull: .*pull is not available for adapter ftp/),
    ]);
  });
});
