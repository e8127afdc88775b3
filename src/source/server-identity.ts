// Asks the source server who it is (IDENTIFY_SYSTEM) and where its timelines branched
// (TIMELINE_HISTORY), over a short replication connection, as a standby would.
import pg from "pg";
import type { Lsn } from "../change/change.js";
import { parseLsn } from "../change/lsn.js";

export interface ServerIdentity {
  /** pg_control's database system identifier: the same for a primary and its physical standbys. */
  readonly systemIdentifier: string;
  /** The timeline the server writes on; a promotion starts a new one. */
  readonly timeline: number;
}

/** One line of a timeline history file: timeline `timeline` ended at `switchLsn`. */
export interface TimelineSwitch {
  readonly timeline: number;
  readonly switchLsn: Lsn;
}

export interface ServerHistory extends ServerIdentity {
  /** Ancestor timelines and where each ended; empty on timeline 1. */
  readonly history: readonly TimelineSwitch[];
}

/** Reads the identity and the timeline history with one replication connection (the REPLICATION role ESS already has). */
export async function readServerHistory(connectionString: string): Promise<ServerHistory> {
  const client = new pg.Client({
    connectionString,
    application_name: "ess-identify",
    // pg passes this through as the startup parameter replication=database.
    replication: "database",
  } as pg.ClientConfig);
  client.on("error", () => undefined);
  await client.connect();
  try {
    const identify = await client.query<{ systemid: string; timeline: number | string }>("IDENTIFY_SYSTEM");
    const row = identify.rows[0];
    if (!row) throw new Error("IDENTIFY_SYSTEM returned no row");
    const timeline = Number(row.timeline);
    let history: TimelineSwitch[] = [];
    if (timeline > 1) {
      const result = await client.query<{ content: string | Buffer }>(`TIMELINE_HISTORY ${timeline}`);
      const content = result.rows[0]?.content;
      history = parseTimelineHistory(Buffer.isBuffer(content) ? content.toString("utf8") : String(content ?? ""));
    }
    return { systemIdentifier: String(row.systemid), timeline, history };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A history file: "<parent timeline>\t<switch LSN>\t<reason>" per line; '#' starts a comment. */
export function parseTimelineHistory(text: string): TimelineSwitch[] {
  const switches: TimelineSwitch[] = [];
  for (const line of text.split("\n")) {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    const [timeline, lsn] = trimmed.split(/\s+/);
    if (timeline === undefined || lsn === undefined || !/^\d+$/.test(timeline)) continue;
    switches.push({ timeline: Number(timeline), switchLsn: parseLsn(lsn) });
  }
  return switches;
}
