// One mapping target compiled for its connector: its fields, encoding and record format, rendering records and drop file bodies.
import type { ConnectorConfig, MappingConfig, RecordFormat, TargetConfig } from "../config/types.js";
import { csvHeader, renderCsv } from "./csv.js";
import { MappingConfigError } from "./errors.js";
import type { FieldScope } from "./field-scope.js";
import { fixedWidthParts, fixedWidthTarget } from "./fixed-width-target.js";
import { type JsonMember, JsonShapeError, jsonShape, renderJson } from "./json.js";
import type { StaticColumns } from "./pseudo-columns.js";
import { at, type CompiledTarget, compileFields } from "./target-common.js";
import {
  CODE_POINTS,
  type TextCodec,
  textCodec,
  UnknownEncodingError,
  UnmappableCharacterError,
} from "./text-codec.js";
import type { TimeZone } from "./time-zone.js";

export type { CompiledTarget } from "./target-common.js";

export interface TargetScope {
  readonly mapping: MappingConfig;
  readonly zone: TimeZone;
  readonly pii: ReadonlySet<string>;
  readonly connectors: ReadonlyMap<string, ConnectorConfig>;
  readonly hashKey?: string;
}

/** Which record formats each adapter can carry. */
const FORMATS_BY_ADAPTER: Readonly<Record<ConnectorConfig["adapter"], readonly RecordFormat[]>> = {
  sftp: ["fixed-width", "csv", "json"],
  ftp: ["fixed-width", "csv", "json"],
  file: ["fixed-width", "csv", "json"],
  soap: ["soap"],
  rest: ["json"],
};

function sourceName(mapping: MappingConfig): string {
  const table = mapping.source.table;
  return table ? `${table.schema}.${table.name}` : (mapping.source.topic ?? "");
}

/** Compiles one target; reports every problem, each with its YAML location. */
export function compileTarget(
  target: TargetConfig,
  index: number,
  scope: TargetScope,
): { readonly target?: CompiledTarget; readonly errors: readonly MappingConfigError[] } {
  const errors: MappingConfigError[] = [];
  const connector = scope.connectors.get(target.connector);
  if (!connector) {
    const known = [...scope.connectors.keys()].join(", ") || "none defined";
    errors.push(
      new MappingConfigError(
        at(target.location, "connector"),
        `unknown connector ${JSON.stringify(target.connector)}`,
        { expected: `a connector name (${known})`, found: target.connector },
      ),
    );
    return { errors };
  }
  const allowed = connector.format ? [connector.format] : FORMATS_BY_ADAPTER[connector.adapter];
  if (!allowed.includes(target.format)) {
    errors.push(
      new MappingConfigError(
        at(target.location, "format"),
        `connector ${connector.name} (${connector.adapter}) cannot carry ${target.format} records`,
        { expected: `a format the ${connector.adapter} adapter carries: ${allowed.join(", ")}`, found: target.format },
      ),
    );
  }
  let codec: TextCodec;
  try {
    codec = textCodec(connector.encoding, target.unmappable);
  } catch (error) {
    if (!(error instanceof UnknownEncodingError)) throw error;
    errors.push(
      new MappingConfigError(at(connector.location, "encoding"), error.message, {
        expected: "an iconv-lite encoding or cp037, cp500, cp1047, cp1140",
        found: connector.encoding,
      }),
    );
    return { errors };
  }
  const statics: StaticColumns = {
    _mapping: scope.mapping.name,
    _connector: connector.name,
    _source: sourceName(scope.mapping),
  };
  const textTarget = target.format === "json" || target.format === "soap";
  const fieldScope: FieldScope = {
    format: target.format,
    pii: scope.pii,
    role: "record",
    statics,
    zone: scope.zone,
    measure: textTarget ? CODE_POINTS : codec.measure,
    truncate: target.overflow === "truncate",
    ...(scope.hashKey !== undefined ? { hashKey: scope.hashKey } : {}),
  };
  const fields = compileFields(target.fields, fieldScope, errors);
  const kept = fields.filter((f) => !f.dropped);
  if (target.fields.length > 0 && fields.length === target.fields.length && kept.length === 0) {
    errors.push(
      new MappingConfigError(at(target.location, "fields"), "every field is dropped", {
        expected: "at least one field that is not dropped",
        found: "none",
      }),
    );
  }
  if (target.format !== "fixed-width" && (target.header || target.trailer)) {
    errors.push(
      new MappingConfigError(
        at(target.location, target.header ? "header" : "trailer"),
        `a ${target.format} target cannot have header or trailer records`,
        { expected: "header and trailer records only with format: fixed-width", found: target.format },
      ),
    );
  }
  const base = {
    connector: connector.name,
    format: target.format,
    index,
    fieldNames: kept.map((f) => f.name),
    columns: [...new Set(kept.flatMap((f) => (f.column === undefined ? [] : [f.column])))],
  };
  if (target.format === "fixed-width") {
    const parts = fixedWidthParts(target, fields, fieldScope, codec, errors);
    if (errors.length > 0 || !parts) return { errors };
    return { target: fixedWidthTarget(base, parts, codec, statics), errors };
  }
  if (target.format === "csv") {
    const delimiter = target.csv.delimiter;
    if ([...delimiter].length !== 1 || /["\r\n]/.test(delimiter) || !encodes(codec, delimiter)) {
      errors.push(
        new MappingConfigError(at(target.location, "csv"), "bad CSV delimiter", {
          expected: `one delimiter character other than a quote or line break, representable in ${codec.encoding}`,
          found: JSON.stringify(delimiter),
        }),
      );
    }
    if (errors.length > 0) return { errors };
    const layout = { fields: kept, delimiter };
    return {
      target: {
        ...base,
        ...(target.csv.header ? { fileHeader: csvHeader(layout, codec) } : {}),
        render: (row, context) => renderCsv(layout, codec, row, context),
        renderBatchBody: (records) =>
          Buffer.concat(target.csv.header ? [csvHeader(layout, codec), ...records] : [...records]),
      },
      errors,
    };
  }
  let members: JsonMember[] = [];
  try {
    members = jsonShape(kept, target.format === "soap");
  } catch (error) {
    if (!(error instanceof JsonShapeError)) throw error;
    errors.push(
      new MappingConfigError(error.field.location, error.message, {
        expected: "distinct member paths",
        found: error.path,
      }),
    );
  }
  if (errors.length > 0) return { errors };
  const newline = Buffer.from("\n");
  return {
    target: {
      ...base,
      render: (row, context) => renderJson(members, row, context),
      renderBatchBody: (records) => Buffer.concat(records.flatMap((r) => [r, newline])),
    },
    errors,
  };
}

function encodes(codec: TextCodec, text: string): boolean {
  try {
    codec.encode(`${text}"\r\n`);
    return true;
  } catch (error) {
    if (error instanceof UnmappableCharacterError) return false;
    throw error;
  }
}
