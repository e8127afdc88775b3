// Rotation of a drop directory: removes this connector's own files (those its file template can
// produce, and their done files) older than the period, and never any other file. In append mode
// it also starts a new file each period: see appendPeriodStart.
import { formatStrftime } from "../mapping/index.js";
import { type DropNameInput, NAME_TIMEZONE, renderDoneName } from "./drop-naming.js";
import type { DropTarget } from "./drop-target.js";

/** A file template as a pattern over whole names: `permit_{date:%Y%m%d}_{batch}.txt` → /^permit_\d{8}_\d+\.txt$/. */
export function templatePattern(template: string, connector: string): RegExp {
  let pattern = "";
  let rest = template;
  for (;;) {
    const open = rest.indexOf("{");
    if (open < 0) break;
    const close = rest.indexOf("}", open);
    if (close < 0) break;
    pattern += escapeRegExp(rest.slice(0, open));
    pattern += placeholderPattern(rest.slice(open + 1, close), connector);
    rest = rest.slice(close + 1);
  }
  return new RegExp(`^${pattern}${escapeRegExp(rest)}$`);
}

function placeholderPattern(body: string, connector: string): string {
  if (body === "connector") return escapeRegExp(connector);
  if (body === "batch") return "\\d+";
  const batch = /^batch:(\d+)$/.exec(body);
  if (batch) return `\\d{${batch[1]},}`;
  if (body.startsWith("date:")) return strftimePattern(body.slice("date:".length));
  return escapeRegExp(`{${body}}`);
}

const DIRECTIVES: Readonly<Record<string, string>> = {
  Y: "\\d{4}",
  y: "\\d{2}",
  m: "\\d{2}",
  d: "\\d{2}",
  H: "\\d{2}",
  M: "\\d{2}",
  S: "\\d{2}",
  j: "\\d{3}",
  "%": "%",
};

function strftimePattern(format: string): string {
  let pattern = "";
  for (let i = 0; i < format.length; i++) {
    const ch = format[i] ?? "";
    if (ch !== "%") {
      pattern += escapeRegExp(ch);
      continue;
    }
    const directive = format[++i] ?? "";
    pattern += DIRECTIVES[directive] ?? "[^/]+?";
  }
  return pattern;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export interface RotationSettings {
  readonly file: string;
  readonly doneFile?: string | undefined;
  readonly rotateMs?: number | undefined;
}

/** Removes the connector's files last written before `now - rotate`; returns the paths removed. */
export async function rotateDrop(
  target: DropTarget,
  settings: RotationSettings,
  connector: string,
  now: Date,
  signal: AbortSignal,
): Promise<string[]> {
  if (settings.rotateMs === undefined) return [];
  const own = templatePattern(settings.file, connector);
  const cutoff = now.getTime() - settings.rotateMs;
  const entries = await target.list(signal);
  const names = new Set(entries.map((e) => e.name));
  const removed: string[] = [];
  for (const entry of entries) {
    if (!own.test(entry.name) || entry.modifiedAt.getTime() >= cutoff) continue;
    await target.unlink(entry.name, signal);
    removed.push(target.pathOf(entry.name));
    if (settings.doneFile === undefined) continue;
    const done = renderDoneName(settings.doneFile, entry.name);
    if (names.has(done)) {
      await target.unlink(done, signal);
      removed.push(target.pathOf(done));
    }
  }
  return removed;
}

/** Periods are counted from a Monday midnight (1970-01-05), so `rotate: 7d` files start on Mondays and `1d` at midnight. */
const PERIOD_ANCHOR_MS = Date.UTC(1970, 0, 5);

/**
 * The start of the rotation period a batch falls in, as the zone's wall-clock time written as if it
 * were UTC (render it with zone "UTC"). Counting on the wall clock keeps `1d` periods at local
 * midnight across daylight-saving changes. Derived from the batch's createdAt only, so every
 * resend of a batch, before or after a restart, lands in the same period's file.
 */
export function appendPeriodStart(createdAt: Date, rotateMs: number, zone: string = NAME_TIMEZONE): Date {
  const wall = Date.parse(`${formatStrftime(createdAt, "%Y-%m-%dT%H:%M:%S", zone)}Z`) + (createdAt.getTime() % 1000);
  const periods = Math.floor((wall - PERIOD_ANCHOR_MS) / rotateMs);
  return new Date(PERIOD_ANCHOR_MS + periods * rotateMs);
}

/** What {date:…} of an append file is rendered from: the start of the batch's rotation period. */
export function appendPeriodInput(batch: DropNameInput, rotateMs: number, zone: string | undefined): DropNameInput {
  return { ...batch, createdAt: appendPeriodStart(batch.createdAt, rotateMs, zone) };
}
