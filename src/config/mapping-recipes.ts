// Rewrites the short forms of a mapping file into canonical keys before it is read: a single
// target written at the top (`target:` and `fields:`), a target's format taken from its
// connector's `format`, and the connector's `dropFields` applied to the target's fields.
import { isMap, isScalar, type Node, Pair, Scalar, YAMLMap, YAMLSeq } from "yaml";
import type { RecipeNotes } from "./recipe-notes.js";

/** The parts of a connector a mapping's short forms depend on. */
export interface ConnectorTraits {
  readonly format?: string;
  readonly dropFields?: readonly string[];
}

const TARGET_KEYS_AT_TOP = ["format", "fields", "terminator", "overflow", "unmappable", "csv", "header", "trailer"];

export function canonicalizeMapping(
  root: Node | null,
  notes: RecipeNotes,
  connectors: ReadonlyMap<string, ConnectorTraits>,
): void {
  if (!isMap(root)) return;
  const top = root as YAMLMap<Scalar, unknown>;
  singleTarget(top, notes);
  const targets = top.get("targets", true);
  if (!(targets instanceof YAMLSeq)) return;
  for (const item of targets.items) {
    if (!isMap(item)) continue;
    const target = item as YAMLMap<Scalar, unknown>;
    const connectorName = scalarText(target.get("connector", true));
    const traits = connectorName === undefined ? undefined : connectors.get(connectorName);
    if (!traits) continue;
    inheritFormat(target, traits, connectorName ?? "", notes);
    dropFields(target, traits, connectorName ?? "", notes);
  }
}

/** `target: payroll_csv` with `fields:` (and target options) at the top → `targets: [ { connector, … } ]`. */
function singleTarget(top: YAMLMap<Scalar, unknown>, notes: RecipeNotes): void {
  const pair = findPair(top, "target");
  if (!pair || top.has("targets")) return;
  const target = new YAMLMap<Scalar, unknown>();
  const connectorKey = new Scalar("connector");
  connectorKey.range = pair.key.range ?? null;
  target.items.push(new Pair(connectorKey, pair.value));
  const moved = ["connector"];
  for (const key of TARGET_KEYS_AT_TOP) {
    const entry = findPair(top, key);
    if (!entry) continue;
    top.items.splice(top.items.indexOf(entry), 1);
    target.items.push(entry);
    moved.push(key);
  }
  target.range = (pair.value as Node | null)?.range ?? null;
  const list = new YAMLSeq();
  list.items.push(target);
  list.range = target.range;
  pair.key.value = "targets";
  pair.value = list;
  notes.note(
    pair.key,
    `target: ${scalarText(target.get("connector", true)) ?? "…"} (with ${moved.slice(1).join(", ")} at the top)`,
    `targets: [ { ${moved.join(", ")} } ]`,
  );
}

function inheritFormat(target: YAMLMap<Scalar, unknown>, traits: ConnectorTraits, name: string, notes: RecipeNotes) {
  if (traits.format === undefined || target.has("format")) return;
  const at = findPair(target, "connector");
  const key = new Scalar("format");
  key.range = at?.key.range ?? null;
  target.items.push(new Pair(key, new Scalar(traits.format)));
  notes.note(at?.key, `connector: ${name} (no format)`, `format: ${traits.format} (the connector's format)`);
}

/** The connector's dropFields: fields of that name, or reading that column, become `column | drop`. */
function dropFields(target: YAMLMap<Scalar, unknown>, traits: ConnectorTraits, name: string, notes: RecipeNotes) {
  const drop = new Set(traits.dropFields ?? []);
  const fields = target.get("fields", true);
  if (drop.size === 0 || !isMap(fields)) return;
  for (const pair of fields.items as Pair<Scalar, unknown>[]) {
    const field = scalarText(pair.key);
    const value = pair.value;
    let column: string | undefined;
    if (isScalar(value) && typeof value.value === "string") {
      column = value.value.split("|")[0]?.trim();
    } else if (isMap(value)) {
      column = scalarText(value.get("from", true));
    }
    if (column === undefined || !(drop.has(column) || (field !== undefined && drop.has(field)))) continue;
    if (isScalar(value) && typeof value.value === "string" && /\|\s*drop\s*$/.test(value.value)) continue;
    const dropped = new Scalar(`${column} | drop`);
    dropped.range = (value as Node | null)?.range ?? null;
    pair.value = dropped;
    notes.note(pair.key, `${field}: (connector ${name} dropFields)`, `${field}: ${column} | drop`);
  }
}

function findPair(map: YAMLMap<Scalar, unknown>, key: string): Pair<Scalar, unknown> | undefined {
  return (map.items as Pair<Scalar, unknown>[]).find((pair) => scalarText(pair.key) === key);
}

function scalarText(node: unknown): string | undefined {
  return isScalar(node) && typeof node.value === "string" ? node.value : undefined;
}
