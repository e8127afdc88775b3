import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate } from "../../src/ledger/migrate.js";
import { waitFor } from "../support/capture-fixture.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { type EmbeddedServer, queryServer, startEmbeddedPostgres } from "../support/embedded-server.js";
import { EssProcess } from "../support/ess-process.js";
import { fileDropConnector, PERMITS_TABLE, permitStatusMapping } from "../support/ess-site.js";
import { essctl } from "../support/essctl.js";
import { type StandbyServer, startStreamingStandby } from "../support/streaming-standby.js";

// A PostgreSQL 17 primary and its streaming standby (made with the low-level backup API), slot
// synchronisation on, ESS given both hosts with replication.failover: true and its ledger apart.
const SOURCE_DB = "hms";
const SLOT = "ess_failover";
const PHYSICAL_SLOT = "ess_standby";
const KEYS = 30;

interface Change {
  readonly id: string;
  readonly status: string;
}

/** Every record of every drop file: PERMIT_ID(12) STATUS(6) TOKEN(45), CRLF-terminated. */
async function droppedRecords(dir: string): Promise<{ id: string; status: string; token: string }[]> {
  const out: { id: string; status: string; token: string }[] = [];
  for (const name of (await readdir(dir)).filter((n) => n.endsWith(".txt"))) {
    const body = await readFile(join(dir, name), "utf8");
    for (const line of body.split("\r\n").slice(0, -1)) {
      out.push({
        id: line.slice(0, 12).trimEnd(),
        status: line.slice(12, 18).trimEnd(),
        token: line.slice(18).trimEnd(),
      });
    }
  }
  return out;
}

/** Inserts `KEYS` permits named `<prefix><n>`, then updates them in turn, `count` changes in all. */
async function writeChanges(url: string, prefix: string, count: number, pauseMs: number): Promise<Change[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const committed: Change[] = [];
  try {
    for (let n = 0; n < count; n++) {
      const id = `${prefix}${n % KEYS}`;
      const status = `S${Math.floor(n / KEYS)}`;
      if (n < KEYS) await client.query("insert into permits (id, status) values ($1, $2)", [id, status]);
      else await client.query("update permits set status = $2 where id = $1", [id, status]);
      committed.push({ id, status });
      if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
    }
  } finally {
    await client.end();
  }
  return committed;
}

/** The standby's copy of the slot, and whether it can be used after a promotion (the PostgreSQL docs' query). */
async function syncedSlot(
  standby: EmbeddedServer,
): Promise<{ synced: boolean; failoverReady: boolean; confirmed: string | null } | undefined> {
  const r = await queryServer<{ synced: boolean; failover_ready: boolean; confirmed: string | null }>(
    standby.url(),
    `select synced, (synced and not temporary and not conflicting) as failover_ready, confirmed_flush_lsn::text as confirmed
       from pg_replication_slots where slot_name = $1`,
    [SLOT],
  );
  const row = r.rows[0];
  return row ? { synced: row.synced, failoverReady: row.failover_ready, confirmed: row.confirmed } : undefined;
}

describe("a failover of the source database: the standby is promoted while ESS runs", () => {
  let primary: EmbeddedServer;
  let standby: StandbyServer;
  let ledger: TestDatabase;
  let dir: string;
  let dropDir: string;
  let configPath: string;
  let ess: EssProcess | undefined;
  let systemIdentifier: string;
  const committed: Change[] = [];

  beforeAll(async () => {
    primary = await startEmbeddedPostgres();
    await queryServer(primary.url(), `create database ${SOURCE_DB}`);
    await queryServer(primary.url(SOURCE_DB), PERMITS_TABLE);
    standby = await startStreamingStandby(primary, { physicalSlot: PHYSICAL_SLOT, syncDatabase: SOURCE_DB });
    // After the copy, so that the standby does not inherit it: a promoted standby has no standby of its own yet.
    await queryServer(primary.url(), `alter system set synchronized_standby_slots = '${PHYSICAL_SLOT}'`);
    await queryServer(primary.url(), "select pg_reload_conf()");
    systemIdentifier =
      (
        await queryServer<{ id: string }>(
          primary.url(),
          "select system_identifier::text as id from pg_control_system()",
        )
      ).rows[0]?.id ?? "";

    ledger = await createTestDatabase("database-failover-ledger");
    await migrate({ connectionString: ledger.url, schema: "ess" });
    dir = await mkdtemp(join(tmpdir(), "ess-failover-"));
    dropDir = join(dir, "drop");
    await mkdir(dropDir);
    await mkdir(join(dir, "connectors"));
    await mkdir(join(dir, "mappings"));
    const hosts = `127.0.0.1:${primary.port},127.0.0.1:${standby.port}`;
    configPath = join(dir, "ess.yaml");
    await writeFile(
      configPath,
      [
        "database:",
        `  url: postgres://${primary.user}:${primary.password}@${hosts}/${SOURCE_DB}`,
        "ledger:",
        `  url: ${ledger.url}`,
        "  schema: ess",
        "replication:",
        `  slot: ${SLOT}`,
        "  publication: ess_pub",
        "  heartbeat: 1s",
        "  failover: true",
        "connectors: ./connectors",
        "mappings: ./mappings",
        "http:",
        "  listen: 127.0.0.1:0",
        "",
      ].join("\n"),
    );
    await writeFile(join(dir, "connectors", "city_drop.yaml"), fileDropConnector("city_drop", dropDir));
    await writeFile(
      join(dir, "mappings", "permit_status.yaml"),
      [
        "name: permit_status",
        "source:",
        "  table: public.permits",
        "pii: [applicant_ssn]",
        "targets:",
        "  - connector: city_drop",
        "    format: fixed-width",
        "    fields:",
        "      PERMIT_ID: id | width:12",
        "      STATUS: status | width:6",
        "      TOKEN: _token | width:45",
        "",
      ].join("\n"),
    );
  }, 180_000);

  afterAll(async () => {
    await ess?.kill9();
    await standby?.stop();
    await primary?.stop();
    await ledger?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("essctl check finds nothing missing for slot synchronisation on the primary and the standby", async () => {
    const result = await essctl(["check", "--config", configPath]);
    const out = result.stdout + result.stderr;
    expect(out).not.toContain("on the standby 127.0.0.1");
    expect(out).not.toContain("on the primary: synchronized_standby_slots");
    expect(result.code, out).toBe(0);
  }, 120_000);

  it("every change written before and after the promotion is delivered once; the new timeline is recognised", async () => {
    ess = EssProcess.start(configPath);
    await ess.waitForLog("replication started", 90_000);
    const slot = await queryServer<{ failover: boolean }>(
      primary.url(SOURCE_DB),
      "select failover from pg_replication_slots where slot_name = $1",
      [SLOT],
    );
    expect(slot.rows[0]?.failover).toBe(true);

    committed.push(...(await writeChanges(primary.url(SOURCE_DB), "A", 90, 5)));
    // The slot sync worker keeps the standby's copy temporary until the primary's slot has passed
    // a point the standby can decode from; a logged snapshot of running transactions gives it one.
    const syncStarted = Date.now();
    await waitFor(
      "the logical slot synchronised to the standby and ready for failover",
      async () => {
        await queryServer(primary.url(), "select pg_log_standby_snapshot()");
        const copy = await syncedSlot(standby);
        if (copy?.failoverReady) return true;
        await new Promise((r) => setTimeout(r, 500));
        return false;
      },
      120_000,
    );
    console.log(`slot synchronised on the standby after ${Date.now() - syncStarted} ms`);
    expect((await syncedSlot(standby))?.synced).toBe(true);

    // ESS stalls (frozen, as a busy or paused process would be) while a burst is committed and
    // the primary is lost: the burst is in the standby's WAL and in no ledger, so after the
    // promotion it can only come from the synchronised slot on the new primary.
    ess.child.kill("SIGSTOP");
    const storedBefore = Number(
      (await ledger.query<{ n: string }>("select count(*) as n from ess.feed where after ->> 'id' like 'B%'")).rows[0]
        ?.n,
    );
    committed.push(...(await writeChanges(primary.url(SOURCE_DB), "B", 150, 0)));
    const end = (await queryServer<{ lsn: string }>(primary.url(), "select pg_current_wal_lsn()::text as lsn")).rows[0]
      ?.lsn;
    await waitFor(
      "the standby to replay the primary's WAL",
      async () => {
        const r = await queryServer<{ done: boolean }>(
          standby.url(),
          "select pg_last_wal_replay_lsn() >= $1::pg_lsn as done",
          [end],
        );
        return r.rows[0]?.done === true;
      },
      60_000,
    );
    const syncedAt = (await syncedSlot(standby))?.confirmed;
    const promotedAt = Date.now();
    await standby.promote();
    await primary.crash();
    ess.child.kill("SIGCONT");
    const resumed = await ess.waitForLog("replication started", 60_000, promotedAt);
    console.log(
      `failover: ${storedBefore} of 150 burst changes stored before the promotion; synchronised slot at ${syncedAt}; ` +
        `capture resumed on the new primary from ${String(resumed.from)} ${resumed.seenAt - promotedAt} ms after pg_promote()`,
    );
    expect(storedBefore).toBe(0);

    committed.push(...(await writeChanges(standby.url(SOURCE_DB), "C", 90, 5)));
    await waitFor(
      `all ${committed.length} changes delivered`,
      async () => {
        const r = await ledger.query<{ sent: string; other: string }>(
          "select count(*) filter (where state = 'sent') as sent, count(*) filter (where state <> 'sent') as other from ess.deliveries",
        );
        return Number(r.rows[0]?.sent) === committed.length && Number(r.rows[0]?.other) === 0;
      },
      120_000,
    );
    expect(ess.running).toBe(true);

    // Once in the ledger: one feed row per committed change.
    const feed = await ledger.query<{ n: string }>(
      "select count(*) as n from ess.feed where after ->> 'id' is not null",
    );
    expect(Number(feed.rows[0]?.n)).toBe(committed.length);
    // Once to the partner: every change is in a drop file, and a change sent twice carries one token.
    const records = await droppedRecords(dropDir);
    const tokenOf = new Map<string, string>();
    for (const r of records) {
      const key = `${r.id}:${r.status}`;
      expect(tokenOf.get(key) ?? r.token).toBe(r.token);
      tokenOf.set(key, r.token);
    }
    expect([...tokenOf.keys()].sort()).toEqual(committed.map((c) => `${c.id}:${c.status}`).sort());

    // The promotion is a legitimate new timeline: the same server lineage, recorded, nothing refused or accepted.
    const identity = await ledger.query<{ system_identifier: string; timeline: number }>(
      "select system_identifier, timeline from ess.source_identity where slot = $1",
      [SLOT],
    );
    expect(identity.rows[0]).toEqual({ system_identifier: systemIdentifier, timeline: 2 });
    const guarded = await ledger.query("select 1 from ess.audit where event in ('source_mismatch', 'source_accepted')");
    expect(guarded.rowCount).toBe(0);
    // Capture reads the slot the standby kept (a slot created now would have been refused).
    const active = await queryServer<{ active: boolean }>(
      standby.url(SOURCE_DB),
      "select active from pg_replication_slots where slot_name = $1",
      [SLOT],
    );
    expect(active.rows[0]?.active).toBe(true);
  }, 420_000);

  it("the old primary coming back on its old timeline is refused, naming the timelines, not read from", async () => {
    expect(ess?.running).toBe(true);
    const process = ess as EssProcess;
    // Split brain: the promoted server goes away and the former primary comes back accepting writes.
    await standby.shutDown();
    await primary.startUp();
    await queryServer(primary.url(SOURCE_DB), "insert into permits (id, status) values ('OLD-1', 'LOST')");
    const refused = await process.waitForLog("ESS stopped on an error", 90_000);
    const message = String((refused.err as { message?: unknown } | undefined)?.message);
    expect(message).toContain("refusing to trust the ledger's checkpoint for replication slot ess_failover");
    expect(message).toContain("the source is on timeline 1, which does not descend from timeline 2");
    expect(message).toContain("essctl backfill");
    await process.exited;
    const audit = await ledger.query<{ detail: { mismatches: string[] } }>(
      "select detail from ess.audit where event = 'source_mismatch'",
    );
    expect(audit.rows[0]?.detail.mismatches.join(" ")).toContain("timeline 1, which does not descend from timeline 2");
    const leaked = await ledger.query("select 1 from ess.feed where after ->> 'id' = 'OLD-1'");
    expect(leaked.rowCount).toBe(0);
  }, 180_000);
});

describe("essctl check on a standby that lacks what slot synchronisation needs", () => {
  let primary: EmbeddedServer | undefined;
  let standby: StandbyServer | undefined;
  afterAll(async () => {
    await standby?.stop();
    await primary?.stop();
  });

  it("names each missing setting on the standby and on the primary, with the SQL that fixes it", async () => {
    primary = await startEmbeddedPostgres();
    await queryServer(primary.url(), `create database ${SOURCE_DB}`);
    await queryServer(primary.url(SOURCE_DB), PERMITS_TABLE);
    standby = await startStreamingStandby(primary, {
      physicalSlot: PHYSICAL_SLOT,
      syncDatabase: null,
      settings: {
        sync_replication_slots: "off",
        hot_standby_feedback: "off",
        primary_slot_name: "",
        wal_level: "replica",
      },
    });
    const dir = await mkdtemp(join(tmpdir(), "ess-failover-check-"));
    try {
      await mkdir(join(dir, "connectors"));
      await mkdir(join(dir, "mappings"));
      const configPath = join(dir, "ess.yaml");
      await writeFile(
        configPath,
        [
          "database:",
          `  url: postgres://${primary.user}:${primary.password}@127.0.0.1:${primary.port},127.0.0.1:${standby.port}/${SOURCE_DB}`,
          "replication:",
          `  slot: ${SLOT}`,
          "  publication: ess_pub",
          "  failover: true",
          "connectors: ./connectors",
          "mappings: ./mappings",
          "",
        ].join("\n"),
      );
      await writeFile(join(dir, "connectors", "city_drop.yaml"), fileDropConnector("city_drop", join(dir, "drop")));
      await writeFile(join(dir, "mappings", "permit_status.yaml"), permitStatusMapping("city_drop"));
      const result = await essctl(["check", "--config", configPath]);
      const out = result.stdout + result.stderr;
      expect(result.code, out).toBe(2);
      const on = `on the standby 127.0.0.1:${standby.port}`;
      expect(out).toContain(`${on}: sync_replication_slots is off`);
      expect(out).toContain("alter system set sync_replication_slots = on;");
      expect(out).toContain(`${on}: hot_standby_feedback is off`);
      expect(out).toContain("alter system set hot_standby_feedback = on;");
      expect(out).toContain(`${on}: primary_slot_name is not set`);
      expect(out).toContain(`${on}: primary_conninfo names no dbname`);
      expect(out).toContain(`add dbname=${SOURCE_DB} to primary_conninfo`);
      expect(out).toContain(`${on}: wal_level is replica`);
      expect(out).toContain("on the primary: synchronized_standby_slots is empty");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
