// essctl backfill: sends the current rows of a mapped table through the mapping, consistent with
// the stream: read from one snapshot once capture has stored everything that snapshot contains,
// leaving out the states the stream delivered, queued ahead of any later change of their row.
import pg from "pg";
import type { TableRef } from "../change/change.js";
import { formatLsn } from "../change/lsn.js";
import type { Row } from "../change/value.js";
import type { ConnectorConfig, EssConfig, MappingConfig } from "../config/types.js";
import { type CompiledMapping, compileMapping } from "../mapping/index.js";
import { ensureSlot, verifyPublication } from "../source/slot.js";
import { primaryUrl } from "../source/source-hosts.js";
import { primaryKeyColumns } from "../source/table-keys.js";
import { waitForCapture } from "./backfill-catch-up.js";
import { XidSnapshot } from "./backfill-decision.js";
import { BackfillInterruptedError, BackfillMappingError } from "./backfill-errors.js";
import { type BackfillCandidate, planBackfillRow } from "./backfill-planner.js";
import { publishedColumns, TableSnapshot } from "./backfill-snapshot.js";
import { type BackfillTarget, queueBackfillBatch } from "./backfill-writer.js";

export interface BackfillOptions {
  /** Rows read and queued per ledger transaction. */
  readonly batchSize?: number;
  /** How long to wait for capture to reach the snapshot (essctl start must be running). */
  readonly catchUpTimeoutMs?: number;
  /** Stops between batches. */
  readonly signal?: AbortSignal;
  /** The snapshot is taken; capture is being waited for. */
  readonly onSnapshot?: (snapshot: { lsn: string; time: Date }) => void;
  /** Capture is behind the snapshot: the wait begins. */
  readonly onWaiting?: (slot: { confirmed: string | null; active: boolean }) => void;
  /** After each batch is durable in the ledger. */
  readonly onProgress?: (progress: BackfillProgress) => void | Promise<void>;
}

export interface BackfillProgress {
  /** Rows read from the snapshot. */
  readonly rows: number;
  /** Rows the mapping takes (ops include insert, `where` matches). */
  readonly matched: number;
  /** Deliveries queued for their partners. */
  readonly queued: number;
  /** Dead letters: rows that cannot be rendered for a target. */
  readonly dead: number;
  /** Deliveries left out because the stream, or an earlier backfill, already delivered that state or a later one. */
  readonly skipped: number;
}

export interface BackfillReport extends BackfillProgress {
  readonly mapping: string;
  readonly table: string;
  /** The snapshot's WAL position ('X/Y'): capture had stored every change before it. */
  readonly snapshotLsn: string;
  readonly snapshotTime: string;
  readonly elapsedMs: number;
}

const DEFAULTS = { batchSize: 1000, catchUpTimeoutMs: 5 * 60_000 };

/**
 * Guarantee, per row of the table and mapping target: the partner ends up with the row's latest
 * state, never receives one state under two tokens (within the ledger's retention), and never
 * receives an older state after a newer one. Changes committed after the snapshot are the
 * stream's; capture must be running (essctl start) so the snapshot's position can be confirmed.
 */
export async function runBackfill(
  config: EssConfig,
  mappingName: string,
  options: BackfillOptions = {},
): Promise<BackfillReport> {
  const started = Date.now();
  const { mappingConfig, table } = tableMapping(config, mappingName);
  const clients: pg.Client[] = [];
  try {
    const control = await connect(clients, config.database.url, "essctl-backfill");
    const reader = await connect(clients, config.database.url, "essctl-backfill-snapshot");
    const ledger = await connect(clients, config.ledger.url ?? config.database.url, "essctl-backfill");
    const keyColumns = await primaryKeyColumns(control, table);
    const mapping = compile(config, mappingConfig, keyColumns);
    let published: string[] | null = null;
    if (config.replication.plugin === "pgoutput") {
      await verifyPublication(control, config.replication.publication, [table]);
      published = await publishedColumns(control, config.replication.publication, table);
    }
    // The slot exists before the snapshot is taken, so every change the snapshot misses is one the stream carries.
    await ensureSlot(control, config.replication.slot, config.replication.plugin);
    const snapshot = await TableSnapshot.open(reader, mappingName, table, keyColumns, published);
    try {
      options.onSnapshot?.({ lsn: formatLsn(snapshot.position.lsn), time: snapshot.position.time });
      try {
        await waitForCapture(control, config.replication.slot, snapshot.position.lsn, {
          timeoutMs: options.catchUpTimeoutMs ?? DEFAULTS.catchUpTimeoutMs,
          ...(options.signal ? { signal: options.signal } : {}),
          ...(options.onWaiting ? { onWaiting: options.onWaiting } : {}),
        });
      } catch (error) {
        throw options.signal?.aborted
          ? new BackfillInterruptedError({ mapping: mappingName, rows: 0, queued: 0 })
          : error;
      }
      const target = {
        schema: config.ledger.schema,
        mapping: mappingName,
        table,
        snapshot: XidSnapshot.parse(snapshot.position.xids),
      };
      const totals = await queueSnapshot(
        snapshot,
        ledger,
        target,
        (row) => planBackfillRow(mapping, table, row, snapshot.position.time, keyColumns),
        options,
      );
      await snapshot.close();
      return {
        mapping: mappingName,
        table: `${table.schema}.${table.name}`,
        snapshotLsn: formatLsn(snapshot.position.lsn),
        snapshotTime: snapshot.position.time.toISOString(),
        ...totals,
        elapsedMs: Date.now() - started,
      };
    } catch (error) {
      await snapshot.abandon();
      throw error;
    }
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  }
}

/** Reads the snapshot batch by batch, each batch queued in its own ledger transaction. */
async function queueSnapshot(
  snapshot: TableSnapshot,
  ledger: pg.ClientBase,
  target: BackfillTarget,
  plan: (row: Row) => BackfillCandidate | null,
  options: BackfillOptions,
): Promise<BackfillProgress> {
  const totals = { rows: 0, matched: 0, queued: 0, dead: 0, skipped: 0 };
  for (;;) {
    if (options.signal?.aborted)
      throw new BackfillInterruptedError({ mapping: target.mapping, rows: totals.rows, queued: totals.queued });
    const rows = await snapshot.next(options.batchSize ?? DEFAULTS.batchSize);
    if (rows.length === 0) return totals;
    const candidates = rows.map(plan).filter((c): c is BackfillCandidate => c !== null);
    const batch = await queueBackfillBatch(ledger, target, candidates);
    totals.rows += rows.length;
    totals.matched += candidates.length;
    totals.queued += batch.queued;
    totals.dead += batch.dead;
    totals.skipped += batch.skipped;
    await options.onProgress?.({ ...totals });
  }
}

/** The mapping by name, if it is one a backfill can take: a table source whose ops include insert. */
function tableMapping(config: EssConfig, name: string): { mappingConfig: MappingConfig; table: TableRef } {
  const mappingConfig = config.mappings.find((m) => m.name === name);
  if (!mappingConfig) {
    const known = config.mappings.map((m) => m.name).join(", ") || "none";
    throw new BackfillMappingError(name, `no mapping of that name (mappings: ${known})`);
  }
  const table = mappingConfig.source.table;
  if (!table) {
    throw new BackfillMappingError(
      name,
      `its source is the topic ${mappingConfig.source.topic ?? ""}: only table mappings have rows to backfill`,
    );
  }
  if (!mappingConfig.source.ops.includes("insert")) {
    throw new BackfillMappingError(
      name,
      `backfilled rows are offered to the mapping as inserts, and it takes only ${mappingConfig.source.ops.join(", ")}`,
    );
  }
  return { mappingConfig, table };
}

/** Compiled as the engine compiles it, so rows render byte for byte as streamed changes do. */
function compile(config: EssConfig, mapping: MappingConfig, primaryKey: readonly string[]): CompiledMapping {
  const connectors = new Map<string, ConnectorConfig>(config.connectors.map((c) => [c.name, c]));
  const result = compileMapping(mapping, connectors, { keyColumns: primaryKey, hashKey: config.hashKey });
  if (!result.mapping) {
    throw new BackfillMappingError(mapping.name, result.errors.map((e) => e.message).join("; "));
  }
  return result.mapping;
}

async function connect(clients: pg.Client[], connectionString: string, applicationName: string): Promise<pg.Client> {
  // Several source hosts: the primary, where the slot and the snapshot are.
  const client = new pg.Client({
    connectionString: await primaryUrl(connectionString),
    application_name: applicationName,
  });
  clients.push(client);
  // A connection lost mid-backfill surfaces as the failing query's error; this only keeps the
  // 'error' event from crashing the process in between.
  client.on("error", () => undefined);
  await client.connect();
  return client;
}
