// A source database with a permits-like table, a publication and a migrated ledger, plus helpers to watch the feed.
import pg from "pg";
import { CaptureService, type CaptureServiceOptions } from "../../src/capture/capture-service.js";
import { migrate } from "../../src/ledger/migrate.js";
import { silentLogger } from "../../src/ops/logger.js";

export const PERMITS_DDL = `
  create table public.permits (
    id bigint primary key,
    status text not null,
    amount numeric(12,2),
    applicant text,
    updated_at timestamptz not null default now()
  );
  create table public.hearings (id bigint primary key, permit_id bigint, scheduled_for date);
  create table public.unpublished_log (id bigserial primary key, note text);
  create publication ess_pub for table public.permits, public.hearings;
`;

export async function prepareSource(url: string, schema = "ess"): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(PERMITS_DDL);
  } finally {
    await client.end();
  }
  await migrate({ connectionString: url, schema });
}

/** Slot names are global to a server: each test database gets its own. */
export function slotFor(url: string): string {
  return `slot_${new URL(url).pathname.slice(1)}`.slice(0, 63);
}

export function captureOptions(url: string, overrides: Partial<CaptureServiceOptions> = {}): CaptureServiceOptions {
  return {
    sourceUrl: url,
    ledgerUrl: url,
    schema: "ess",
    slot: slotFor(url),
    publication: "ess_pub",
    plugin: "pgoutput",
    tables: [
      { schema: "public", name: "permits" },
      { schema: "public", name: "hearings" },
    ],
    heartbeatMs: 0,
    logger: silentLogger(),
    reconnect: { initialMs: 50, maxMs: 500 },
    statusIntervalMs: 200,
    ...overrides,
  };
}

export function startCapture(options: CaptureServiceOptions): { service: CaptureService; done: Promise<void> } {
  const service = new CaptureService(options);
  const done = service.run();
  done.catch(() => undefined);
  return { service, done };
}

/** Polls until `check` returns true or the time is up (then throws with `what`). */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export async function feedCount(url: string, schema = "ess"): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const r = await client.query<{ n: string }>(`select count(*) as n from ${schema}.feed`);
    return Number(r.rows[0]?.n ?? 0);
  } finally {
    await client.end();
  }
}
