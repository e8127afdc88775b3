// What slot synchronisation (PostgreSQL 17 failover slots) needs on the primary and on each standby
// named in database.url, with the configuration and SQL that is missing.
import pg from "pg";
import type { EssConfig } from "../config/types.js";
import { hasSeveralHosts, hostRoles } from "../source/source-hosts.js";
import { type DatabaseProblem, problem } from "./database-problem.js";

export interface FailoverOutcome {
  readonly problems: readonly DatabaseProblem[];
  readonly info: readonly string[];
}

const RELOAD = "select pg_reload_conf();";

/** `primary` is a connection to the host that accepts writes. */
export async function failoverRules(primary: pg.ClientBase, config: EssConfig): Promise<FailoverOutcome> {
  const problems: DatabaseProblem[] = [];
  const info: string[] = [];
  const slot = config.replication.slot;
  const settings = await readSettings(primary, ["server_version_num", "synchronized_standby_slots"]);
  const version = Number(settings.get("server_version_num") ?? 0);
  if (version < 170000) {
    problems.push(
      problem(
        "failover",
        `replication.failover needs PostgreSQL 17 or newer; the primary runs ${Math.floor(version / 10000)}`,
        {
          change: "set replication.failover: false in ess.yaml, and after a failover follow the README's procedure",
        },
      ),
    );
    return { problems, info };
  }
  const standbys = hasSeveralHosts(config.database.url)
    ? (await hostRoles(config.database.url)).filter((h) => h.inRecovery === true)
    : [];
  const standbySlots: string[] = [];
  for (const standby of standbys) {
    const client = new pg.Client({ connectionString: standby.url, application_name: "essctl" });
    client.on("error", () => undefined);
    try {
      await client.connect();
      const s = await readSettings(client, [
        "sync_replication_slots",
        "hot_standby_feedback",
        "primary_slot_name",
        "primary_conninfo",
        "wal_level",
      ]);
      const on = (name: string) => s.get(name) === "on";
      const where = `on the standby ${standby.host}`;
      if (!on("sync_replication_slots")) {
        problems.push(
          problem("failover", `${where}: sync_replication_slots is off, so the slot ${slot} is not kept there`, {
            sql: ["alter system set sync_replication_slots = on;", RELOAD],
          }),
        );
      }
      if (!on("hot_standby_feedback")) {
        problems.push(
          problem("failover", `${where}: hot_standby_feedback is off; slot synchronisation needs it`, {
            sql: ["alter system set hot_standby_feedback = on;", RELOAD],
          }),
        );
      }
      const walLevel = s.get("wal_level");
      if (walLevel !== undefined && walLevel !== "logical") {
        problems.push(
          problem("failover", `${where}: wal_level is ${walLevel}; the slot sync worker needs logical`, {
            sql: ["alter system set wal_level = logical;  -- takes effect when the standby restarts"],
          }),
        );
      }
      const physical = s.get("primary_slot_name") ?? "";
      if (physical === "") {
        problems.push(
          problem("failover", `${where}: primary_slot_name is not set; slot synchronisation needs a physical slot`, {
            sql: [
              "-- on the primary: select pg_create_physical_replication_slot('ess_standby');",
              "alter system set primary_slot_name = 'ess_standby';",
              RELOAD,
            ],
          }),
        );
      } else {
        standbySlots.push(physical);
      }
      // Shown only to superusers and pg_read_all_settings; unknown otherwise.
      const conninfo = s.get("primary_conninfo");
      if (conninfo !== undefined && conninfo !== "" && !/\bdbname\s*=/.test(conninfo)) {
        problems.push(
          problem("failover", `${where}: primary_conninfo names no dbname; the slot sync worker needs one`, {
            change: `add dbname=${databaseOf(config.database.url)} to primary_conninfo on the standby, then select pg_reload_conf();`,
          }),
        );
      }
    } catch (error) {
      problems.push(
        problem("failover", `the standby ${standby.host} cannot be checked: ${(error as Error)?.message}`, {
          change: "make the standby reachable with the configured role",
        }),
      );
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  if (standbys.length === 0) {
    info.push(
      "database.url names one host: give the standby too (postgres://…@primary:5432,standby:5432/db) so essctl check verifies slot synchronisation there and ESS follows a promotion",
    );
  }
  const synchronized = (settings.get("synchronized_standby_slots") ?? "")
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean);
  const missing = standbySlots.filter((name) => !synchronized.includes(name));
  if (synchronized.length === 0 || missing.length > 0) {
    const wanted = [
      ...new Set([...synchronized, ...(standbySlots.length > 0 ? standbySlots : ["<the standby's physical slot>"])]),
    ];
    problems.push(
      problem(
        "failover",
        `on the primary: synchronized_standby_slots ${synchronized.length === 0 ? "is empty" : `lacks ${missing.join(", ")}`}; without it ESS may receive changes the standby does not have yet, and lose them at a promotion`,
        { sql: [`alter system set synchronized_standby_slots = '${wanted.join(",")}';`, RELOAD] },
      ),
    );
  }
  const existing = await primary.query<{ failover: string | null }>(
    "select to_jsonb(s) ->> 'failover' as failover from pg_replication_slots s where s.slot_name = $1",
    [slot],
  );
  const row = existing.rows[0];
  if (row && row.failover !== "true") {
    info.push(
      `replication slot ${slot} is not a failover slot yet: essctl start makes it one (ALTER_REPLICATION_SLOT … (FAILOVER true))`,
    );
  }
  return { problems, info };
}

async function readSettings(client: pg.ClientBase, names: readonly string[]): Promise<Map<string, string>> {
  const result = await client.query<{ name: string; setting: string }>(
    "select name, setting from pg_settings where name = any($1::text[])",
    [names],
  );
  return new Map(result.rows.map((r) => [r.name, r.setting]));
}

function databaseOf(url: string): string {
  const match = /\/([^/?#]+)(?:[?#].*)?$/.exec(url.replace(/^postgres(?:ql)?:\/\/[^/]*/, ""));
  return match?.[1] ?? "<database>";
}
