import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../support/capture-fixture.js";
import { type PostgresServer, startEmbeddedPostgres } from "../support/embedded-server.js";
import { EssProcess } from "../support/ess-process.js";
import {
  createSite,
  type EssSite,
  fileDropConnector,
  PERMITS_TABLE,
  permitStatusMapping,
} from "../support/ess-site.js";
import { essctl } from "../support/essctl.js";

async function auditEvents(site: EssSite, event: string): Promise<{ error: string | null; detail: unknown }[]> {
  const r = await site.db.query<{ error: string | null; detail: unknown }>(
    "select error, detail from ess.audit where event = $1 order by id",
    [event],
  );
  return r.rows;
}

async function deliveredIds(site: EssSite): Promise<string[]> {
  const r = await site.db.query<{ key: string }>("select ordering_key as key from ess.deliveries order by id");
  return r.rows.map((row) => row.key);
}

/** Runs essctl start until capture is streaming and `id` is captured, then SIGKILLs it. */
async function captureOnce(site: EssSite, id: string, args: string[] = []): Promise<void> {
  const ess = EssProcess.start(site.configPath, args);
  try {
    await ess.waitForLog("replication started", 60_000);
    await site.db.query("insert into permits (id, status) values ($1, 'NEW')", [id]);
    await waitFor(`${id} captured`, async () => (await deliveredIds(site)).some((k) => k.includes(id)));
  } finally {
    await ess.kill9();
  }
}

describe("a checkpoint that does not belong to the slot is refused", () => {
  let site: EssSite;
  let other: PostgresServer | undefined;
  beforeAll(async () => {
    site = await createSite("source-identity", ({ dropDir }) => ({
      connectors: { city_drop: fileDropConnector("city_drop", dropDir) },
      mappings: { permit_status: permitStatusMapping("city_drop") },
    }));
  });
  afterAll(async () => {
    await other?.stop();
    await site?.cleanup();
  });

  it("item 6: a ledger checkpoint ahead of a new slot is refused, naming the mismatch", async () => {
    await captureOnce(site, "BEFORE-1");
    const slot = (await site.load()).replication.slot;
    // The source comes back from a backup: its slot is gone and its WAL is behind the ledger's checkpoint.
    await site.db.query(
      "select pg_terminate_backend(active_pid) from pg_replication_slots where slot_name = $1 and active_pid is not null",
      [slot],
    );
    await waitFor("the slot released", async () => {
      const r = await site.db.query("select 1 from pg_replication_slots where slot_name = $1 and active", [slot]);
      return r.rowCount === 0;
    });
    await site.db.query("select pg_drop_replication_slot($1)", [slot]);
    await site.db.query(
      "update ess.checkpoints set confirmed_lsn = pg_current_wal_lsn() + 64 * 1024 * 1024 where slot = $1",
      [slot],
    );
    const checkpoint = (await site.db.query<{ lsn: string }>("select confirmed_lsn::text as lsn from ess.checkpoints"))
      .rows[0]?.lsn;
    await site.db.query("insert into permits (id, status) values ('GAP-1', 'NEW')");

    // Refused twice in a row: a refused start leaves nothing that would make the next one trust it.
    for (let run = 0; run < 2; run++) {
      const refused = await essctl(["start", "--config", site.configPath]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`refusing to trust the ledger's checkpoint for replication slot ${slot}`);
      expect(refused.stderr).toMatch(/was created now, at [0-9A-F]+\/[0-9A-F]+, behind the ledger's checkpoint/);
      expect(refused.stderr).toContain(checkpoint);
      expect(refused.stderr).toContain("would be skipped");
      expect(refused.stderr).toContain("essctl start --accept-source-change");
      expect(refused.stderr).toContain("essctl backfill <mapping>` for each mapping (permit_status)");
    }
    const refusals = await auditEvents(site, "source_mismatch");
    expect(refusals).toHaveLength(2);
    expect(JSON.stringify(refusals[0]?.detail)).toContain(checkpoint);

    // The operator accepts the change: capture starts from the new slot, then backfill resends current rows.
    await captureOnce(site, "AFTER-1", ["--accept-source-change"]);
    expect(await auditEvents(site, "source_accepted")).toHaveLength(1);
    // From then on an ordinary resume.
    await captureOnce(site, "AFTER-2");
    expect(await auditEvents(site, "source_mismatch")).toHaveLength(2);
  }, 240_000);

  it("a ledger pointed at a different server is refused, naming both system identifiers", async () => {
    other = await startEmbeddedPostgres();
    const client = new pg.Client({ connectionString: other.url() });
    await client.connect();
    try {
      await client.query(PERMITS_TABLE);
    } finally {
      await client.end();
    }
    const config = await site.load();
    const mine = await site.db.query<{ id: string }>("select system_identifier::text as id from pg_control_system()");
    const theirs = await (async () => {
      const c = new pg.Client({ connectionString: other.url() });
      await c.connect();
      try {
        return (await c.query<{ id: string }>("select system_identifier::text as id from pg_control_system()")).rows[0]
          ?.id;
      } finally {
        await c.end();
      }
    })();
    const path = join(site.dir, "ess-other-server.yaml");
    await writeFile(
      path,
      [
        "database:",
        `  url: ${other.url()}`,
        "ledger:",
        "  schema: ess",
        `  url: ${site.db.url}`,
        "replication:",
        `  slot: ${config.replication.slot}`,
        "  publication: ess_pub",
        "  heartbeat: 1s",
        "connectors: ./connectors",
        "mappings: ./mappings",
        "http:",
        "  listen: 127.0.0.1:0",
        "",
      ].join("\n"),
    );
    const refused = await essctl(["start", "--config", path]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      `the source is another server: its system identifier is ${theirs}, the ledger's checkpoint`,
    );
    expect(refused.stderr).toContain(`was taken on ${mine.rows[0]?.id}`);
    expect(refused.stderr).toContain("essctl backfill");
    // Nothing was read from the other server into this ledger, and its slot was not left behind.
    const c = new pg.Client({ connectionString: other.url() });
    await c.connect();
    try {
      const slots = await c.query("select 1 from pg_replication_slots");
      expect(slots.rowCount).toBe(0);
    } finally {
      await c.end();
    }
  }, 180_000);
});
