// Reads one mappings/<name>.yaml (SPEC §3.3): the source, time zone, PII columns and the targets' structure.
import type { Op } from "../change/change.js";
import { DEFAULTS } from "./defaults.js";
import { OBJECT_NAME, OBJECT_NAME_TEXT, TOPIC, TOPIC_TEXT } from "./names.js";
import { isValidTimezone } from "./schedule.js";
import { parseTableRef, TABLE_REF_TEXT } from "./table-ref.js";
import { type ReadTarget, readTarget } from "./target-section.js";
import type { MappingConfig, MappingSource, SourceLocation } from "./types.js";
import type { MapReader, ValueReader } from "./yaml-reader.js";

const MAPPING_KEYS = ["name", "source", "timezone", "pii", "targets"];
const SOURCE_KEYS = ["table", "topic", "ops", "where", "key"];
const OPS: readonly Op[] = ["insert", "update", "delete", "truncate"];
const COLUMN_TEXT = "a column name";
const TIMEZONE_TEXT = "an IANA time zone such as America/New_York or UTC";

/** What a mapping file yielded; `settings` is present when everything but the targets is valid. */
export interface ReadMapping {
  readonly name?: string;
  readonly location: SourceLocation;
  readonly settings?: Omit<MappingConfig, "targets">;
  readonly targets: readonly ReadTarget[];
}

export function readMapping(document: ValueReader): ReadMapping {
  const errorsBefore = document.ctx.errors.length;
  const top = document.map(MAPPING_KEYS, "a mapping (with name, source and targets)");
  if (!top) return { location: document.location, targets: [] };
  const name = top.require("name", OBJECT_NAME_TEXT)?.matching(OBJECT_NAME, OBJECT_NAME_TEXT);
  const location = top.get("name")?.location ?? top.location;
  const source = readSource(top.require("source", "a mapping with table or topic"));
  const timezone = top.get("timezone")?.matching(isValidTimezone, TIMEZONE_TEXT, undefined) ?? DEFAULTS.timezone;
  const pii = columnList(top.get("pii")) ?? [];
  const clean = top.ctx.errors.length === errorsBefore;
  const targets = readTargets(top);
  const settings = clean && source ? { name: name ?? "", location, source, timezone, pii } : undefined;
  return { ...(name !== undefined ? { name } : {}), location, ...(settings ? { settings } : {}), targets };
}

function readTargets(top: MapReader): ReadTarget[] {
  const list = top.require("targets", "a list of targets")?.list("a list of targets");
  if (list?.length === 0) top.get("targets")?.fail("a mapping needs at least one target", { expected: "a target" });
  return (list ?? []).map(readTarget);
}

function readSource(value: ValueReader | undefined): MappingSource | undefined {
  const source = value?.map(SOURCE_KEYS, "a mapping with table or topic");
  if (!source) return undefined;
  const tableValue = source.get("table");
  const topicValue = source.get("topic");
  if (tableValue && topicValue) {
    topicValue.fail("a source has either table or topic, not both", { expected: "table or topic", found: "both" });
  } else if (!tableValue && !topicValue) {
    source.fail("a source needs table (row changes) or topic (application events)", {
      expected: "table or topic",
      found: "neither",
    });
  }
  const tableText = tableValue?.string(TABLE_REF_TEXT);
  const table = tableText === undefined ? undefined : parseTableRef(tableText, DEFAULTS.sourceSchema);
  if (tableValue && tableText !== undefined && table === undefined) {
    tableValue.fail(`${JSON.stringify(tableText)} is not ${TABLE_REF_TEXT}`, { expected: TABLE_REF_TEXT });
  }
  const topic = topicValue?.matching(TOPIC, TOPIC_TEXT);
  const opsValue = source.get("ops");
  if (opsValue && topicValue) opsValue.fail("ops apply to table sources only", { expected: "no ops for a topic" });
  const ops = opsValue?.listOrOne("a list of operations")?.map((op) => op.oneOf(OPS, "operation"));
  if (ops?.length === 0)
    opsValue?.fail("ops is empty, so nothing would ever be sent", {
      expected: "at least one of insert, update, delete, truncate",
    });
  const key = columnList(source.get("key"));
  if (key?.length === 0) source.get("key")?.fail("key is empty", { expected: "at least one column" });
  return {
    ...(table ? { table } : {}),
    ...(topic !== undefined ? { topic } : {}),
    ops: ops ? [...new Set(ops.filter((op): op is Op => op !== undefined))] : [...DEFAULTS.ops],
    where: readWhere(source.get("where")),
    ...(key !== undefined ? { key } : {}),
  };
}

function readWhere(value: ValueReader | undefined): MappingSource["where"] {
  const where: Record<string, (string | number | boolean | null)[]> = {};
  for (const entry of value?.map(undefined, "a mapping of column: [values]")?.entries() ?? []) {
    const values = entry.value.listOrOne("a value or a list of values") ?? [];
    if (values.length === 0) entry.value.fail("an empty list matches no row", { expected: "at least one value" });
    where[entry.key] = values.map((item) => item.scalar()).filter((item) => item !== undefined);
  }
  return where;
}

function columnList(value: ValueReader | undefined): string[] | undefined {
  const items = value?.listOrOne("a list of column names");
  return items?.map((item) => item.string(COLUMN_TEXT)).filter((item): item is string => item !== undefined);
}
