// Rewrites the one-line recipe forms of a connector file into canonical keys before it is read:
// `type:`, adapter settings at the top, `mode: append_csv`, `file: /IN/x_{{date}}.csv`,
// zone-less or clock schedules as text, `transform: drop_fields [...]`. Moved values keep
// their positions, so errors still point at the line the operator wrote.
import { isMap, isScalar, type Node, Pair, parse, Scalar, YAMLMap, YAMLSeq } from "yaml";
import { ADAPTER_KEYS } from "./connector-adapters.js";
import { ADAPTERS, CONNECTOR_KEYS } from "./connector-file.js";
import type { RecipeNotes } from "./recipe-notes.js";
import { parseSchedule } from "./schedule.js";
import { scheduleFromText } from "./schedule-clock.js";

/** Keys of a connector's top level that are never adapter settings (the adapter sections aside). */
const TOP_LEVEL_ONLY = new Set(CONNECTOR_KEYS.filter((key) => !(ADAPTERS as readonly string[]).includes(key)));
const DROP_ADAPTERS = new Set(["sftp", "ftp", "file"]);
const MARKER = /\uE000/;

export function canonicalizeConnector(root: Node | null, notes: RecipeNotes, essTimezone: string): void {
  if (!isMap(root)) return;
  const top = root as YAMLMap<Scalar, unknown>;
  renameType(top, notes);
  const adapter = scalarText(top.get("adapter", true));
  const section = adapter !== undefined && adapter in ADAPTER_KEYS ? gatherSection(top, adapter, notes) : undefined;
  const zone = scalarText(top.get("timezone", true)) ?? essTimezone;
  if (section && adapter !== undefined && DROP_ADAPTERS.has(adapter)) {
    dropMode(top, section, adapter, notes);
    dropFile(top, section, adapter, notes, zone);
  }
  scheduleText(top, notes, zone);
  transform(top, notes);
}

function renameType(top: YAMLMap<Scalar, unknown>, notes: RecipeNotes): void {
  const pair = findPair(top, "type");
  if (!pair || top.has("adapter")) return;
  const written = `type: ${scalarText(pair.value) ?? "…"}`;
  pair.key.value = "adapter";
  notes.note(pair.key, written, `adapter: ${scalarText(pair.value) ?? "…"}`);
}

/** Adapter settings written at the top level move into the adapter's section. */
function gatherSection(top: YAMLMap<Scalar, unknown>, adapter: string, notes: RecipeNotes): YAMLMap | undefined {
  const keys: readonly string[] = ADAPTER_KEYS[adapter as keyof typeof ADAPTER_KEYS];
  const existing = top.get(adapter, true);
  // A plain `file:` under adapter file is the drop's file name, not its section.
  const plainFileName = adapter === "file" && isScalar(existing);
  if (existing !== undefined && !isMap(existing) && !plainFileName) return undefined;
  let section = plainFileName ? undefined : (existing as YAMLMap | undefined);
  for (const pair of [...top.items] as Pair<Scalar, unknown>[]) {
    const key = scalarText(pair.key);
    if (key === undefined || !keys.includes(key)) continue;
    // `file:` names the file adapter's section as well as a drop's file name: a plain value is the name.
    if (key === adapter && isMap(pair.value)) continue;
    if (TOP_LEVEL_ONLY.has(key) || (section?.has(key) ?? false)) continue;
    if (!section) {
      section = new YAMLMap();
      const sectionKey = new Scalar(adapter);
      sectionKey.range = pair.key.range ?? null;
      top.items.push(new Pair(sectionKey, section));
    }
    top.items.splice(top.items.indexOf(pair), 1);
    section.items.push(pair);
    const shown = isScalar(pair.value) ? notes.raw(String(pair.value.value)) : "…";
    notes.note(pair.key, `${key}: ${shown}`, `${adapter}.${key}: ${shown}`);
  }
  return section;
}

function dropMode(top: YAMLMap<Scalar, unknown>, section: YAMLMap, adapter: string, notes: RecipeNotes): void {
  const pair = findPair(section as YAMLMap<Scalar, unknown>, "mode");
  const mode = scalarText(pair?.value);
  if (!pair || !isScalar(pair.value)) return;
  if (mode === "append_csv") {
    pair.value.value = "append";
    const canonical = [`${adapter}.mode: append`];
    if (!top.has("format")) {
      const format = new Scalar("csv");
      const key = new Scalar("format");
      key.range = pair.key.range ?? null;
      format.range = pair.value.range ?? null;
      top.items.push(new Pair(key, format));
      canonical.push("format: csv");
    }
    notes.note(pair.key, "mode: append_csv", canonical.join(", "));
  } else if (mode === "file_per_batch" || mode === "per_batch") {
    pair.value.value = "file-per-batch";
    notes.note(pair.key, `mode: ${mode}`, `${adapter}.mode: file-per-batch`);
  }
}

const DOUBLE_BRACES = /\{\{\s*([a-z]+)(?::([^{}]*))?\s*\}\}/g;

/** `file: /IN/permits_{{date}}.csv` → `dir: /IN`, `file: permits_{date:%Y%m%d}.csv`, in the connector's zone. */
function dropFile(
  top: YAMLMap<Scalar, unknown>,
  section: YAMLMap,
  adapter: string,
  notes: RecipeNotes,
  zone: string,
): void {
  const pair = findPair(section as YAMLMap<Scalar, unknown>, "file");
  if (!pair || !isScalar(pair.value) || typeof pair.value.value !== "string") return;
  const written = pair.value.value;
  let file = written;
  let dated = false;
  file = file.replace(DOUBLE_BRACES, (whole, name: string, arg: string | undefined) => {
    if (name === "date") {
      dated = true;
      return `{date:${arg ?? "%Y%m%d"}}`;
    }
    if (name === "batch" || name === "connector") return `{${name}}`;
    if (name === "name") return "{connector}";
    return whole;
  });
  const canonical: string[] = [];
  const slash = file.lastIndexOf("/");
  if (slash >= 0 && !section.has("dir")) {
    const dir = file.slice(0, slash) || "/";
    file = file.slice(slash + 1);
    const dirValue = new Scalar(dir);
    dirValue.range = pair.value.range ?? null;
    const dirKey = new Scalar("dir");
    dirKey.range = pair.key.range ?? null;
    section.items.unshift(new Pair(dirKey, dirValue));
    canonical.push(`${adapter}.dir: ${notes.raw(dir)}`);
  }
  if (file === written) return;
  pair.value.value = file;
  canonical.push(`${adapter}.file: ${notes.raw(file)}`);
  if (dated && !top.has("timezone")) {
    const key = new Scalar("timezone");
    key.range = pair.key.range ?? null;
    top.items.push(new Pair(key, new Scalar(zone)));
    canonical.push(`timezone: ${zone} (ess.yaml timezone; {date} is in this zone)`);
  }
  notes.note(pair.key, `file: ${notes.raw(written)}`, canonical.join(", "));
}

/** Schedules written as text: `every 60s`, `Mon-Fri at 09:00`, and windows without a zone. */
function scheduleText(top: YAMLMap<Scalar, unknown>, notes: RecipeNotes, zone: string): void {
  const pair = findPair(top, "schedule");
  const text = scalarText(pair?.value);
  if (!pair || text === undefined || MARKER.test(text)) return;
  const trimmed = text.trim();
  if (trimmed.toLowerCase() === "always" || parseSchedule(trimmed).ok) return;
  const found = scheduleFromText(trimmed, zone);
  if (!found) return;
  const keys = found.keys;
  if (keys === undefined) {
    if (isScalar(pair.value)) pair.value.value = JSON.parse(found.canonical) as string;
    notes.note(pair.key, `schedule: ${text}`, `schedule: ${found.canonical} (zone from ess.yaml timezone)`);
    return;
  }
  const value = new YAMLMap();
  value.flow = true;
  if (keys.every !== undefined) setScalar(value, "every", keys.every);
  if (keys.at !== undefined) {
    if (keys.at.length === 1) setScalar(value, "at", keys.at[0] ?? "", true);
    else value.items.push(new Pair(new Scalar("at"), quotedList(keys.at)));
  }
  if (keys.days !== undefined) setScalar(value, "days", keys.days);
  if (keys.timezone !== undefined) setScalar(value, "timezone", keys.timezone);
  replaceValue(pair, value);
  notes.note(pair.key, `schedule: ${text}`, `schedule: ${found.canonical}`);
}

/** `transform: drop_fields ["ssn","dob"]` → `dropFields: [ssn, dob]`. */
function transform(top: YAMLMap<Scalar, unknown>, notes: RecipeNotes): void {
  const pair = findPair(top, "transform");
  if (!pair || top.has("dropFields")) return;
  let names: unknown;
  let written: string;
  const value = pair.value;
  if (isScalar(value) && typeof value.value === "string") {
    written = value.value;
    const match = /^drop_fields\s*(.*)$/s.exec(value.value.trim());
    if (!match) return;
    try {
      names = parse(match[1] ?? "");
    } catch {
      // Left as `transform`, which the reader reports as an unknown key with the accepted ones.
      return;
    }
  } else if (isMap(value) && value.has("drop_fields")) {
    written = "drop_fields: …";
    names = (value.toJSON() as Record<string, unknown>).drop_fields;
  } else return;
  const list = typeof names === "string" ? [names] : names;
  if (!Array.isArray(list) || list.length === 0 || !list.every((n) => typeof n === "string")) return;
  pair.key.value = "dropFields";
  replaceValue(pair, fieldList(list as string[], value));
  notes.note(pair.key, `transform: ${written}`, `dropFields: [${(list as string[]).join(", ")}]`);
}

/** A flow sequence of the names, each pointing at the line that named it. */
function fieldList(names: readonly string[], at: unknown): Node {
  const range = (at as Node | null)?.range ?? null;
  const seq = new YAMLSeq();
  seq.flow = true;
  for (const name of names) {
    const scalar = new Scalar(name);
    scalar.range = range;
    seq.items.push(scalar);
  }
  seq.range = range;
  return seq;
}

function setScalar(map: YAMLMap, key: string, text: string, quoted = false): void {
  const value = new Scalar(text);
  if (quoted) value.type = Scalar.QUOTE_DOUBLE;
  map.items.push(new Pair(new Scalar(key), value));
}

function quotedList(texts: readonly string[]): YAMLSeq {
  const seq = new YAMLSeq();
  seq.flow = true;
  for (const text of texts) {
    const scalar = new Scalar(text);
    scalar.type = Scalar.QUOTE_DOUBLE;
    seq.items.push(scalar);
  }
  return seq;
}

function replaceValue(pair: Pair<Scalar, unknown>, value: Node): void {
  const old = pair.value as Node | null;
  if (old?.range && !value.range) value.range = old.range;
  pair.value = value;
}

function findPair(map: YAMLMap<Scalar, unknown>, key: string): Pair<Scalar, unknown> | undefined {
  return (map.items as Pair<Scalar, unknown>[]).find((pair) => scalarText(pair.key) === key);
}

function scalarText(node: unknown): string | undefined {
  return isScalar(node) && typeof node.value === "string" ? node.value : undefined;
}
