// A partner polling the SFTP drop directory never reads a partial file.
import { createHash, randomBytes } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SftpAdapter } from "../../src/adapters/sftp-adapter.js";
import { silentLogger } from "../../src/ops/logger.js";
import { type SshServer, startSshd } from "../support/sshd.js";
import { makeBatch, RecordingContext, resend, sftpConnector } from "./drop-fixtures.js";

let server: SshServer;

beforeAll(async () => {
  server = await startSshd();
});

afterAll(async () => {
  await server?.dispose();
});

function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

interface Observation {
  listings: number;
  sawTemp: number;
  /** Hashes of every read of the data file under its final name. */
  finalReads: string[];
  /** Hashes of the data file read right after its done file was listed. */
  readsAfterDone: string[];
  /** Listings that lacked the final name after it had appeared once. */
  vanished: number;
}

/** A partner's job: lists the drop directory in a loop and reads whatever carries the final names. */
function watch(dir: string, name: string): { stop(): Promise<Observation> } {
  const seen: Observation = { listings: 0, sawTemp: 0, finalReads: [], readsAfterDone: [], vanished: 0 };
  let running = true;
  let appeared = false;
  const loop = (async () => {
    while (running) {
      const names = await readdir(dir);
      seen.listings++;
      if (names.includes(`${name}.part`)) seen.sawTemp++;
      if (names.includes(name)) {
        appeared = true;
        seen.finalReads.push(sha256(await readFile(join(dir, name))));
      } else if (appeared) {
        seen.vanished++;
      }
      if (names.includes(`${name}.done`)) seen.readsAfterDone.push(sha256(await readFile(join(dir, name))));
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return seen;
    },
  };
}

describe("sftp drops are atomic", () => {
  it("a reader polling the drop never sees a partial file, and the done file follows the complete data file", async () => {
    const adapter = new SftpAdapter(
      sftpConnector({
        host: server.host,
        port: server.port,
        username: server.username,
        privateKey: server.privateKey,
        hostKey: server.hostKey,
        dir: server.dropDir,
        doneFile: "{file}.done",
      }),
      { logger: silentLogger() },
    );
    try {
      const body = randomBytes(48 * 1024 * 1024);
      const expected = sha256(body);
      const batch = makeBatch({ sequence: 77, body });
      const name = adapter.batchName(batch);
      await adapter.heartbeat(AbortSignal.timeout(10_000));

      const watcher = watch(server.dropDir, name);
      await adapter.send(resend(batch, name), new RecordingContext());
      // A resend replaces the file in place: readers must never find it missing or partial.
      await adapter.send(resend(batch, name), new RecordingContext());
      const seen = await watcher.stop();

      // The reader really ran while the body was uploading, and really read the result.
      expect(seen.sawTemp).toBeGreaterThan(0);
      expect(seen.finalReads.length).toBeGreaterThan(0);
      expect(seen.finalReads.filter((hash) => hash !== expected)).toEqual([]);
      expect(seen.readsAfterDone.filter((hash) => hash !== expected)).toEqual([]);
      expect(seen.vanished).toBe(0);
      expect((await readdir(server.dropDir)).sort()).toEqual([name, `${name}.done`]);
      expect(sha256(await readFile(join(server.dropDir, name)))).toBe(expected);
    } finally {
      await adapter.close();
    }
  });
});
