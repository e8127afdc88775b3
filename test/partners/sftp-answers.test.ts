// City hall answers back: cp037 fixed-width answer files on a real OpenSSH server, pulled, applied
// once (even across a SIGKILL between reading and moving), written into an application table.
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import iconv from "iconv-lite";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SftpAnswerFiles } from "../../src/adapters/answer-files.js";
import type { ConnectorConfig } from "../../src/config/types.js";
import { FileAnswerPull, type FilePullReport } from "../../src/inbound/file-answer-pull.js";
import { registerEbcdicCodecs } from "../../src/mapping/index.js";
import { silentLogger } from "../../src/ops/logger.js";
import { waitFor } from "../support/capture-fixture.js";
import { createSite, type EssSite, permitStatusMapping } from "../support/ess-site.js";
import { FAULT_FIRED, faultEnv } from "../support/fault-arming.js";
import { type SshServer, startSshd } from "../support/sshd.js";
import { startEssctl } from "./essctl-start.js";
import { type RunningEngine, runEngine } from "./running-engine.js";
import { sftpConnectorYaml, writeConnector, writeSecretFile } from "./site-files.js";

const CONNECTOR = "city_hall_cobol";

/** CORRELATION-ID(28) STATUS(1) REFERENCE(10) MESSAGE(40), as city hall's batch job writes them. */
function answerLine(correlationId: string, status: "A" | "R", reference: string, message = ""): string {
  return correlationId.padEnd(28) + status + reference.padEnd(10) + message.padEnd(40);
}

interface Delivery {
  readonly id: string;
  readonly correlation_id: string;
  readonly state: string;
  readonly last_error: string | null;
}

describe("city hall's answer files over SFTP, against OpenSSH", () => {
  let server: SshServer;
  let site: EssSite;
  let engine: RunningEngine;
  let connector: ConnectorConfig;
  let pool: pg.Pool;
  let answersDir: string;
  let doneDir: string;

  beforeAll(async () => {
    registerEbcdicCodecs();
    server = await startSshd();
    site = await createSite("partners-sftp-answers", () => ({
      connectors: {},
      mappings: { permit_status: permitStatusMapping(CONNECTOR) },
    }));
    await site.db.query(
      "create table public.permit_confirmation (correlation_id text primary key, status text not null, city_ref text, reason text)",
    );
    const keyFile = await writeSecretFile(site, "city_hall_key", server.privateKey);
    const dropDir = join(server.dropDir, "IN");
    answersDir = join(server.dropDir, "OUT");
    doneDir = join(answersDir, "done");
    await mkdir(dropDir);
    await mkdir(answersDir);
    await writeConnector(
      site,
      CONNECTOR,
      sftpConnectorYaml({
        name: CONNECTOR,
        server,
        keyFile,
        dir: dropDir,
        file: "permit_{batch}.txt",
        mode: "file-per-batch",
        encoding: "cp037",
        policy: [
          "batch: { maxRecords: 10, maxWait: 50ms }",
          "heartbeat: { every: 1s, offlineAfter: 3 }",
          "pull:",
          "  every: 1h", // one round at start-up, then only the rounds this test runs
          `  dir: ${answersDir}`,
          '  file: "ack_*.txt"',
          "  format: fixed-width",
          "  fields:",
          "    correlationId: { start: 1, width: 28 }",
          "    status: { start: 29, width: 1 }",
          "    reference: { start: 30, width: 10 }",
          "    message: { start: 40, width: 40 }",
          "  statusCodes: { A: accepted, R: rejected }",
          "answers:",
          "  table: public.permit_confirmation",
          "  key: [correlation_id]",
          "  columns: { correlation_id: correlationId, status: status, city_ref: reference, reason: message }",
        ],
      }),
    );
    const config = await site.load();
    connector = config.connectors.find((c) => c.name === CONNECTOR) as ConnectorConfig;
    engine = await runEngine(config);
    pool = new pg.Pool({ connectionString: site.db.url, max: 2 });
  });

  afterAll(async () => {
    await engine?.stop();
    await pool?.end();
    await server?.dispose();
    await site?.cleanup();
  });

  /** Two new permits, delivered to city hall's drop. */
  async function twoSent(prefix: string): Promise<[Delivery, Delivery]> {
    await site.db.query("insert into permits (id, status) values ($1, 'APPROVED'), ($2, 'APPROVED')", [
      `${prefix}-1`,
      `${prefix}-2`,
    ]);
    await waitFor(`${prefix} sent`, async () => {
      const r = await site.db.query<{ n: number }>(
        "select count(*)::int as n from ess.deliveries where ordering_key like $1 and state = 'sent'",
        [`%${prefix}-%`],
      );
      return r.rows[0]?.n === 2;
    });
    const rows = await site.db.query<Delivery>(
      "select id, correlation_id, state, last_error from ess.deliveries where ordering_key like $1 order by id",
      [`%${prefix}-%`],
    );
    expect(rows.rows).toHaveLength(2);
    return rows.rows as [Delivery, Delivery];
  }

  /** City hall writes one answer file: the first accepted, the second rejected with its reason. */
  async function answerFile(name: string, accepted: Delivery, rejected: Delivery, reason: string): Promise<void> {
    const text = `${answerLine(accepted.correlation_id, "A", "CH-OK")}\r\n${answerLine(rejected.correlation_id, "R", "CH-NO", reason)}\r\n`;
    await writeFile(join(answersDir, name), iconv.encode(text, "cp037"));
  }

  async function pullOnce(): Promise<FilePullReport[]> {
    if (connector.pull?.kind !== "files" || connector.adapter !== "sftp") throw new Error("an sftp pull connector");
    const store = new SftpAnswerFiles(
      CONNECTOR,
      connector.sftp,
      connector.pull.dir,
      connector.pull.file,
      connector.pull.done,
    );
    try {
      return await new FileAnswerPull({
        connector: CONNECTOR,
        pull: connector.pull,
        ...(connector.answers ? { answers: connector.answers } : {}),
        store,
        pool,
        schema: "ess",
        logger: silentLogger(),
      }).pullOnce();
    } finally {
      await store.close();
    }
  }

  async function stateOf(delivery: Delivery): Promise<Delivery> {
    const r = await site.db.query<Delivery>(
      "select id, correlation_id, state, last_error from ess.deliveries where id = $1",
      [delivery.id],
    );
    return r.rows[0] as Delivery;
  }

  /** How often each delivery's answer took effect: audit rows, stored answers, application rows. */
  async function effects(deliveries: readonly Delivery[]): Promise<{ audit: number; events: number; app: number }> {
    const ids = deliveries.map((d) => d.id);
    const correlations = deliveries.map((d) => d.correlation_id);
    const r = await site.db.query<{ audit: number; events: number; app: number }>(
      `select (select count(*)::int from ess.audit where delivery_id = any($1::bigint[]) and event in ('confirmed', 'dead')) as audit,
              (select count(*)::int from ess.inbound_events where delivery_id = any($1::bigint[])) as events,
              (select count(*)::int from permit_confirmation where correlation_id = any($2::text[])) as app`,
      [ids, correlations],
    );
    return r.rows[0] as { audit: number; events: number; app: number };
  }

  it("after one pull the accepted delivery is confirmed, the rejected one dead with city hall's reason, the file in done/", async () => {
    const [ok, no] = await twoSent("BP-A");
    await answerFile("ack_001.txt", ok, no, "FEE NOT PAID");
    const inbound = new pg.Client({ connectionString: site.db.url });
    await inbound.connect();
    const heard: Record<string, unknown>[] = [];
    inbound.on("notification", (n) => heard.push(JSON.parse(n.payload ?? "{}") as Record<string, unknown>));
    await inbound.query("listen ess_inbound");

    const [report] = await pullOnce();
    expect(report).toMatchObject({ name: "ack_001.txt", applied: true, confirmed: 1, rejected: 1, unmatched: 0 });
    expect((await stateOf(ok)).state).toBe("confirmed");
    expect(await stateOf(no)).toMatchObject({
      state: "dead",
      last_error: "rejected by the partner (reference CH-NO): FEE NOT PAID",
    });
    expect(await readdir(answersDir)).toEqual(["done"]);
    expect(await readdir(doneDir)).toEqual(["ack_001.txt"]);
    const app = await site.db.query(
      "select correlation_id, status, city_ref, reason from permit_confirmation order by status",
    );
    expect(app.rows).toEqual([
      { correlation_id: ok.correlation_id, status: "accepted", city_ref: "CH-OK", reason: null },
      { correlation_id: no.correlation_id, status: "rejected", city_ref: "CH-NO", reason: "FEE NOT PAID" },
    ]);
    const recorded = await site.db.query("select name, answers, unmatched from ess.pulled_files");
    expect(recorded.rows).toEqual([{ name: "ack_001.txt", answers: 2, unmatched: 0 }]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(heard.map((h) => [h.correlationId, h.status])).toEqual([
      [ok.correlation_id, "accepted"],
      [no.correlation_id, "rejected"],
    ]);
    await inbound.end();
  });

  it("a SIGKILL after the answers are applied and before the move applies nothing twice", async () => {
    const [ok, no] = await twoSent("BP-B");
    await answerFile("ack_002.txt", ok, no, "PARCEL UNKNOWN");
    const child = startEssctl(["start", "--no-capture", "--config", site.configPath], {
      ...faultEnv("answers-applied-before-move"),
    });
    const exit = await child.exited(60_000);
    expect(exit.signal).toBe("SIGKILL");
    expect(child.stderr()).toMatch(FAULT_FIRED);
    // Killed between the commit and the move: applied, still in the answers directory.
    expect((await stateOf(ok)).state).toBe("confirmed");
    expect((await stateOf(no)).state).toBe("dead");
    expect((await readdir(answersDir)).sort()).toEqual(["ack_002.txt", "done"]);
    expect(await effects([ok, no])).toEqual({ audit: 2, events: 2, app: 2 });

    const [report] = await pullOnce();
    expect(report).toMatchObject({ name: "ack_002.txt", applied: false, confirmed: 0, rejected: 0 });
    expect(await readdir(answersDir)).toEqual(["done"]);
    expect((await readdir(doneDir)).sort()).toEqual(["ack_001.txt", "ack_002.txt"]);
    expect(await effects([ok, no])).toEqual({ audit: 2, events: 2, app: 2 });
  });

  it("a SIGKILL after reading and before applying applies the file once on the next pull", async () => {
    const [ok, no] = await twoSent("BP-C");
    await answerFile("ack_003.txt", ok, no, "DUPLICATE FILING");
    const child = startEssctl(["start", "--no-capture", "--config", site.configPath], {
      ...faultEnv("answer-file-read-before-apply"),
    });
    const exit = await child.exited(60_000);
    expect(exit.signal).toBe("SIGKILL");
    expect((await stateOf(ok)).state).toBe("sent");
    expect(await effects([ok, no])).toEqual({ audit: 0, events: 0, app: 0 });

    const [report] = await pullOnce();
    expect(report).toMatchObject({ name: "ack_003.txt", applied: true, confirmed: 1, rejected: 1 });
    expect((await stateOf(no)).last_error).toMatch(/DUPLICATE FILING/);
    expect(await effects([ok, no])).toEqual({ audit: 2, events: 2, app: 2 });
    expect(await pullOnce()).toEqual([]);
  });

  it("hostile answer files: NUL is kept visibly, and a file the application refuses waits without holding back the files after it", async () => {
    const [okNul, noNul] = await twoSent("BP-H1");
    const [okRefused, noRefused] = await twoSent("BP-H2");
    const [okAfter, noAfter] = await twoSent("BP-H3");
    // City hall's job wrote NUL (cp037 0x00) into a reference and a message; the application
    // table refuses a reason in the second file.
    await writeFile(
      join(answersDir, "ack_101.txt"),
      Buffer.concat([
        iconv.encode(`${answerLine(okNul.correlation_id, "A", "CH\u0000OK")}\r\n`, "cp037"),
        iconv.encode(`${answerLine(noNul.correlation_id, "R", "CH-NO", "BAD \u0000 PERMIT")}\r\n`, "cp037"),
      ]),
    );
    await answerFile("ack_102.txt", okRefused, noRefused, "REFUSED BY THE APPLICATION");
    await answerFile("ack_103.txt", okAfter, noAfter, "FILED TWICE");
    await site.db.query(
      "alter table permit_confirmation add constraint no_refused_reason check (coalesce(reason, '') <> 'REFUSED BY THE APPLICATION')",
    );
    try {
      const reports = await pullOnce();
      expect(reports.map((r) => [r.name, r.applied, r.confirmed, r.rejected])).toEqual([
        ["ack_101.txt", true, 1, 1],
        ["ack_103.txt", true, 1, 1],
      ]);
      expect((await stateOf(okNul)).state).toBe("confirmed");
      expect(await stateOf(noNul)).toMatchObject({
        state: "dead",
        last_error: "rejected by the partner (reference CH-NO): BAD \\0 PERMIT",
      });
      const reference = await site.db.query<{ ref: string }>(
        "select partner_reference as ref from ess.deliveries where id = $1",
        [okNul.id],
      );
      expect(reference.rows[0]?.ref).toBe("CH\\0OK");
      // The refused file waits in the answers directory; its deliveries took nothing from it.
      expect((await readdir(answersDir)).sort()).toEqual(["ack_102.txt", "done"]);
      expect((await stateOf(okRefused)).state).toBe("sent");
      expect(await effects([okRefused, noRefused])).toEqual({ audit: 0, events: 0, app: 0 });
      expect((await stateOf(okAfter)).state).toBe("confirmed");
      expect((await stateOf(noAfter)).last_error).toMatch(/FILED TWICE/);
    } finally {
      await site.db.query("alter table permit_confirmation drop constraint no_refused_reason");
    }
    // Once the application takes it, the next round applies it, once.
    const [report] = await pullOnce();
    expect(report).toMatchObject({ name: "ack_102.txt", applied: true, confirmed: 1, rejected: 1 });
    expect(await effects([okRefused, noRefused])).toEqual({ audit: 2, events: 2, app: 2 });
  });
});
