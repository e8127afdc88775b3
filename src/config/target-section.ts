// Reads one target of a mapping: connector, record format, options and the field map in declaration order.
import { isMap } from "yaml";
import { DEFAULTS } from "./defaults.js";
import type { FieldConfig, LongFieldSpec, RecordFormat, SourceLocation, TargetConfig } from "./types.js";
import type { MapReader, ValueReader } from "./yaml-reader.js";

const TARGET_KEYS = [
  "connector",
  "format",
  "fields",
  "terminator",
  "overflow",
  "unmappable",
  "csv",
  "header",
  "trailer",
];
const LONG_FIELD_KEYS = ["from", "const", "width", "align", "pad", "format"];
const FORMATS: readonly RecordFormat[] = ["fixed-width", "csv", "json", "soap"];
const FIELD_TEXT = 'a field expression ("column | formatter:arg") or { from: column, width: 10, ... }';

/** A target as read; `config` is present when the target itself has no error. */
export interface ReadTarget {
  readonly location: SourceLocation;
  readonly connector?: string;
  /** Where the connector is named, to point at an unknown one. */
  readonly connectorValue?: ValueReader;
  /** Where the format is named, to point at one the connector cannot carry. */
  readonly formatValue?: ValueReader;
  readonly config?: TargetConfig;
}

export function readTarget(value: ValueReader): ReadTarget {
  const errorsBefore = value.ctx.errors.length;
  const target = value.map(TARGET_KEYS, "a target (a mapping with connector, format and fields)");
  if (!target) return { location: value.location };
  const connectorValue = target.require("connector", "a connector name");
  const connector = connectorValue?.string("a connector name");
  const formatValue = target.require("format", FORMATS.join(", "));
  const format = formatValue?.oneOf(FORMATS, "format");
  const fields = readFieldMap(target, "fields", true);
  onlyFor(target, "terminator", format, ["fixed-width", "csv"]);
  onlyFor(target, "csv", format, ["csv"]);
  onlyFor(target, "header", format, ["fixed-width"]);
  onlyFor(target, "trailer", format, ["fixed-width"]);
  const csv = target.get("csv")?.map(["header", "delimiter"]);
  const delimiter = csv?.get("delimiter");
  const delimiterText = delimiter?.text("a single character")?.value;
  if (delimiter && delimiterText !== undefined && [...delimiterText].length !== 1) {
    delimiter.fail(`delimiter ${JSON.stringify(delimiterText)} is not a single character`, {
      expected: "a single character",
      found: JSON.stringify(delimiterText),
    });
  }
  const header = readFieldMap(target, "header", false);
  const trailer = readFieldMap(target, "trailer", false);
  const config: TargetConfig = {
    connector: connector ?? "",
    format: format ?? "json",
    fields: fields ?? [],
    terminator: target.get("terminator")?.oneOf(["crlf", "lf", "none"], "terminator") ?? DEFAULTS.terminator,
    overflow: target.get("overflow")?.oneOf(["error", "truncate"], "overflow") ?? DEFAULTS.overflow,
    unmappable: target.get("unmappable")?.oneOf(["error", "substitute"], "unmappable") ?? DEFAULTS.unmappable,
    csv: {
      header: csv?.get("header")?.boolean() ?? DEFAULTS.csv.header,
      delimiter: delimiterText ?? DEFAULTS.csv.delimiter,
    },
    ...(header ? { header } : {}),
    ...(trailer ? { trailer } : {}),
    location: value.location,
  };
  const clean = value.ctx.errors.length === errorsBefore;
  return {
    location: value.location,
    ...(connector !== undefined ? { connector } : {}),
    ...(connectorValue ? { connectorValue } : {}),
    ...(formatValue ? { formatValue } : {}),
    ...(clean ? { config } : {}),
  };
}

/** An option that the format ignores would silently do nothing: refuse it. */
function onlyFor(target: MapReader, key: string, format: RecordFormat | undefined, formats: readonly RecordFormat[]) {
  if (format === undefined || formats.includes(format)) return;
  target.get(key)?.fail(`"${key}" does not apply to format ${format} (only to ${formats.join(", ")})`, {
    expected: `format ${formats.join(" or ")}`,
    found: `format ${format}`,
  });
}

function readFieldMap(target: MapReader, key: string, required: boolean): FieldConfig[] | undefined {
  const value = required ? target.require(key, "a mapping of output field: expression") : target.get(key);
  const map = value?.map(undefined, "a mapping of output field: expression");
  if (!value || !map) return undefined;
  const entries = map.entries();
  if (entries.length === 0) value.fail(`${key} is empty`, { expected: "at least one field" });
  return entries.map((entry) => ({
    name: entry.key,
    spec: readFieldSpec(entry.value) ?? "",
    // The key's position: `TS:` is where an operator looks for the TS field.
    location: entry.location,
  }));
}

function readFieldSpec(value: ValueReader): FieldConfig["spec"] | undefined {
  if (!isMap(value.node)) return value.string(FIELD_TEXT);
  const long = value.map(LONG_FIELD_KEYS, FIELD_TEXT);
  if (!long) return undefined;
  const spec: { -readonly [K in keyof LongFieldSpec]: LongFieldSpec[K] } = {};
  const from = long.get("from")?.string("a column name");
  if (from !== undefined) spec.from = from;
  const constant = long.get("const")?.text("a constant value");
  if (constant !== undefined) spec.const = constant.value;
  const width = long.get("width")?.integer({ min: 1, max: 32_767, expected: "a width from 1 to 32767" });
  if (width !== undefined) spec.width = width;
  const align = long.get("align")?.oneOf(["left", "right"], "align");
  if (align !== undefined) spec.align = align;
  const padValue = long.get("pad");
  const pad = padValue?.text("a single pad character")?.value;
  if (padValue && pad !== undefined) {
    if ([...pad].length === 1) spec.pad = pad;
    else padValue.fail(`pad ${JSON.stringify(pad)} is not a single character`, { expected: "a single character" });
  }
  const format = long.get("format")?.string('formatters such as "upper | trim"');
  if (format !== undefined) spec.format = format;
  if (long.has("from") && long.has("const")) {
    long.fail("a field takes its value from a column or a constant, not both", { expected: "from or const" });
  } else if (!long.has("from") && !long.has("const")) {
    long.fail("a field needs from (a column) or const (a fixed value)", { expected: "from or const" });
  }
  return spec;
}
