// SIGKILLs on the send path of the SOAP and SFTP adapters: after a claim, after the partner
// accepted (before the ledger knows), and between an SFTP upload and its rename. A resend must
// carry the same idempotency token (SOAP) or the same file name with the same records (SFTP).
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminUrl } from "../support/database.js";
import { startSoapServer, type TestSoapServer } from "../support/soap-server.js";
import { type SshServer, startSshd } from "../support/sshd.js";
import { EssProcess } from "./ess-process.js";
import { createFaultSite, type FaultSite } from "./fault-site.js";
import { InvariantSampler } from "./invariant-sampler.js";
import { dropReceptions, judge, type Reception, type Verdict } from "./partner-view.js";
import { Workload } from "./workload.js";

const WSDL = fileURLToPath(new URL("../../connectors/county_scheduler.wsdl", import.meta.url));

const PLAN = [
  "claimed-before-send:soap_partner",
  "accepted-before-ledger:soap_partner",
  "accepted-before-ledger:soap_partner",
  "claimed-before-send:sftp_batches",
  "accepted-before-ledger:sftp_batches",
  "temp-written-before-rename:sftp_batches",
  "accepted-before-ledger:sftp_batches",
] as const;

describe("a SIGKILL on the SOAP and SFTP send paths loses nothing and applies nothing twice", () => {
  let site: FaultSite;
  let soap: TestSoapServer;
  let sshd: SshServer;
  beforeAll(async () => {
    soap = await startSoapServer({
      wsdlFile: WSDL,
      service: "SchedulerService",
      port: "SchedulerPort",
      operation: "Reschedule",
      handler: (call, index) => ({ confirmation_id: `CONF-${String(call.args.family)}-${index}`, status: "OK" }),
    });
    sshd = await startSshd();
    const keyFile = join(sshd.dropDir, "..", `client-key-${process.pid}`);
    await writeFile(keyFile, sshd.privateKey, { mode: 0o600 });
    const url = new URL(adminUrl());
    site = await createFaultSite({
      name: `adapters_${process.pid}`,
      soap: { url: soap.url, wsdl: WSDL },
      sftp: { server: sshd, keyFile },
      urlFor: (database) => {
        url.pathname = `/${database}`;
        return url.toString();
      },
    });
  }, 120_000);
  afterAll(async () => {
    await site?.cleanup();
    await soap?.stop();
    await sshd?.dispose();
  });

  const soapReceptions = (): Reception[] =>
    soap.calls.map((call) => ({
      key: String(call.args.family),
      seq: Number(call.args.reason),
      token: call.token ?? "",
    }));

  it("each point is reached and killed in turn under load; the partners end complete, resends keep their token and their file", async () => {
    const workload = new Workload({ url: site.sourceUrl, keys: 60, maxRows: 4, pauseMs: 80 });
    const sampler = new InvariantSampler({ ...site, workload, rest: () => [] });
    workload.start();
    sampler.start();
    const resentCalls: number[] = [];
    let stopped = false;
    // Stopped on every path, so a failed expectation does not leave it reading a removed site.
    const stopSampler = () => {
      stopped = true;
      return sampler.stop();
    };
    try {
      await killAtEachPoint();
    } finally {
      await workload.stop();
      if (!stopped) await stopSampler().catch(() => undefined);
    }
    async function killAtEachPoint() {
      for (const point of PLAN) {
        const ess = new EssProcess({ configPath: site.configPath, faults: point });
        const died = await ess.diedAtFaultPoint(60_000);
        await ess.kill9();
        expect(died, `the process never reached ${point}:\n${ess.stderr}`).toBe(true);
        if (point.startsWith("accepted-before-ledger:soap")) resentCalls.push(soap.calls.length - 1);
      }
      await workload.stop();
      await drainAndJudge();
    }
    async function drainAndJudge() {
      const committed = await workload.committedInSource();
      const ess = new EssProcess({ configPath: site.configPath });
      let verdict: Verdict | undefined;
      try {
        let lastLost = Number.POSITIVE_INFINITY;
        let progressAt = Date.now();
        while (Date.now() - progressAt < 30_000) {
          verdict = judge(
            committed,
            new Map([
              ["soap_partner", soapReceptions()],
              ["sftp_batches", await dropReceptions(sshd.dropDir)],
            ]),
            new Set(),
          );
          if (verdict.lost === 0) break;
          if (verdict.lost < lastLost) progressAt = Date.now();
          lastLost = verdict.lost;
          await new Promise((r) => setTimeout(r, 250));
        }
      } finally {
        await ess.stop();
      }
      const report = await stopSampler();
      expect(report.violations).toEqual([]);
      expect(verdict?.problems).toEqual([]);
      expect({ lost: verdict?.lost, duplicated: verdict?.duplicated }).toEqual({ lost: 0, duplicated: 0 });
      expect(committed.size).toBeGreaterThan(50);
      // The calls the scheduler answered just before each kill were made again, with the same token.
      expect(resentCalls.length).toBe(2);
      for (const index of resentCalls) {
        const accepted = soap.calls[index];
        expect(accepted).toBeDefined();
        const again = soap.calls.slice(index + 1).filter((c) => c.token === accepted?.token);
        expect(again.length, `the call accepted before kill ${index} was not resent`).toBeGreaterThan(0);
        for (const call of again) expect(call.args).toEqual(accepted?.args);
      }
    }
  }, 600_000);
});
