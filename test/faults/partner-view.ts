// What the partners of a fault site received, in the order they received it, and the verdict
// against the committed transactions: lost, duplicated, out of order, never committed.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { RECORD } from "./fault-site.js";

export interface Reception {
  readonly key: string;
  readonly seq: number;
  readonly token: string;
  /** The drop file it arrived in (file connectors). */
  readonly file?: string;
}

export type Receptions = ReadonlyMap<string, readonly Reception[]>;

export interface Verdict {
  /** Committed changes a partner never received (connector × change). */
  readonly lost: number;
  /** Changes a partner would apply twice: received under two tokens, or appended twice. */
  readonly duplicated: number;
  /** Human-readable findings, at most a few per kind. */
  readonly problems: readonly string[];
}

export function parseRecords(body: string, file: string | undefined): Reception[] {
  const out: Reception[] = [];
  for (const line of body.split("\r\n")) {
    if (line.length < RECORD.token[1] - 20) continue;
    out.push({
      key: line.slice(...RECORD.id).trim(),
      seq: Number(line.slice(...RECORD.seq).trim()),
      token: line.slice(...RECORD.token).trim(),
      ...(file ? { file } : {}),
    });
  }
  return out;
}

/** Records of the file-per-batch drop in batch order (file names carry the batch sequence). */
export async function dropReceptions(dropDir: string): Promise<Reception[]> {
  const names = (await readdir(dropDir)).filter((n) => n.endsWith(".txt")).sort();
  const out: Reception[] = [];
  for (const name of names) out.push(...parseRecords(await readFile(join(dropDir, name), "utf8"), name));
  return out;
}

export async function appendReceptions(appendDir: string): Promise<Reception[]> {
  try {
    return parseRecords(await readFile(join(appendDir, "permits.txt"), "utf8"), "permits.txt");
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return [];
    throw error;
  }
}

/**
 * Checks every connector's receptions against the committed transactions (seq → keys).
 * `appendOnly` names connectors whose partner has no way to drop a repeated record.
 */
export function judge(
  committed: ReadonlyMap<number, readonly string[]>,
  receptions: Receptions,
  appendOnly: ReadonlySet<string>,
  /** While changes are still on their way: judge only what cannot be undone, not what is missing. */
  options: { partial?: boolean } = {},
): Verdict {
  let lost = 0;
  let duplicated = 0;
  const problems: string[] = [];
  const note = (kind: string, text: string, counts: Map<string, number>) => {
    const n = (counts.get(kind) ?? 0) + 1;
    counts.set(kind, n);
    if (n <= 3) problems.push(text);
  };
  for (const [connector, list] of receptions) {
    const counts = new Map<string, number>();
    const tokensOf = new Map<string, Set<string>>();
    const copies = new Map<string, number>();
    const filesOf = new Map<string, Set<string>>();
    const lastSeq = new Map<string, number>();
    for (const r of list) {
      const change = `${r.key}:${r.seq}`;
      if (!committed.get(r.seq)?.includes(r.key)) {
        note("phantom", `${connector}: received ${change}, which was never committed`, counts);
      }
      const tokens = tokensOf.get(change) ?? new Set<string>();
      tokens.add(r.token);
      tokensOf.set(change, tokens);
      copies.set(r.token, (copies.get(r.token) ?? 0) + 1);
      if (r.file) filesOf.set(r.token, (filesOf.get(r.token) ?? new Set<string>()).add(r.file));
      const last = lastSeq.get(r.key);
      if (last !== undefined && r.seq < last) {
        // Even a repeat of an older change after a newer one breaks the ordering promise.
        note("order", `${connector}: key ${r.key} received seq ${r.seq} after seq ${last}`, counts);
      }
      if (last === undefined || r.seq > last) lastSeq.set(r.key, r.seq);
    }
    for (const [seq, keys] of options.partial ? [] : committed) {
      for (const key of keys) {
        if (!tokensOf.has(`${key}:${seq}`)) {
          lost++;
          note("lost", `${connector}: never received ${key}:${seq}`, counts);
        }
      }
    }
    for (const [change, tokens] of tokensOf) {
      if (tokens.size > 1) {
        duplicated++;
        note("tokens", `${connector}: ${change} arrived under ${tokens.size} tokens`, counts);
      }
    }
    for (const [token, n] of copies) {
      if (n > 1 && appendOnly.has(connector)) {
        duplicated++;
        note("appended", `${connector}: token ${token} appended ${n} times`, counts);
      }
    }
    for (const [token, files] of filesOf) {
      if (files.size > 1 && !appendOnly.has(connector)) {
        note(
          "batches",
          `${connector}: token ${token} is in ${files.size} batch files: ${[...files].join(", ")}`,
          counts,
        );
      }
    }
    for (const [kind, n] of counts) if (n > 3) problems.push(`${connector}: ${n - 3} more ${kind} findings`);
  }
  return { lost, duplicated, problems };
}

export interface ReceptionWait {
  readonly committed: ReadonlyMap<number, readonly string[]>;
  /** What every partner holds at this moment, by connector. */
  readonly receptions: () => Receptions | Promise<Receptions>;
  /** Connectors whose partner has no way to drop a repeated record (see `judge`). */
  readonly appendOnly?: ReadonlySet<string>;
  /** How long the count of missing changes may stay put before what is missing counts as lost. */
  readonly quietMs: number;
  /** A time (epoch ms) after which the wait ends even while changes still arrive. */
  readonly deadline?: number;
  /** Runs before each look, e.g. to start again a process that exited, as a service manager would. */
  readonly beforeLook?: () => void | Promise<void>;
}

const LOOK_EVERY_MS = 250;

/**
 * Judges the partners until each has every committed change (the marker the wait ends on), or
 * until nothing new arrived for `quietMs` (a loss). Returns the last verdict.
 */
export async function receiveEverything(wait: ReceptionWait): Promise<Verdict> {
  const appendOnly = wait.appendOnly ?? new Set<string>();
  let verdict: Verdict;
  let progressAt = Date.now();
  let lastLost = Number.POSITIVE_INFINITY;
  for (;;) {
    await wait.beforeLook?.();
    verdict = judge(wait.committed, await wait.receptions(), appendOnly);
    if (verdict.lost === 0) return verdict;
    if (verdict.lost < lastLost) progressAt = Date.now();
    lastLost = verdict.lost;
    const now = Date.now();
    if (now - progressAt >= wait.quietMs || (wait.deadline !== undefined && now >= wait.deadline)) return verdict;
    await new Promise((resolve) => setTimeout(resolve, LOOK_EVERY_MS));
  }
}
