// Checks across files: unique names, targets naming known connectors in a format they carry, then the mapping engine's own checks.
import { basename, extname } from "node:path";
import { compileMapping } from "../mapping/index.js";
import { FORMATS_BY_ADAPTER } from "./adapter-formats.js";
import { ConfigError, displayFileName } from "./config-error.js";
import type { ReadConnector } from "./connector-file.js";
import type { ReadMapping } from "./mapping-file.js";
import { suggestion } from "./suggestion.js";
import type { ReadTarget } from "./target-section.js";
import type { ConnectorConfig, SourceLocation } from "./types.js";

/** A file whose YAML could not be parsed: its own errors are reported, nothing else is read from it. */
export interface BrokenFile {
  readonly brokenFile: string;
}

/** Reports cross-file problems into `errors`; returns the connectors that are valid, by name. */
export function checkReferences(
  connectors: readonly (ReadConnector | BrokenFile)[],
  mappings: readonly (ReadMapping | BrokenFile)[],
  errors: ConfigError[],
  hashKey?: string,
): Map<string, ConnectorConfig> {
  const valid = new Map<string, ConnectorConfig>();
  // Names of connectors that exist but are broken: targets naming them are not reported a second time.
  const known = new Set<string>();
  const firstSeen = new Map<string, SourceLocation>();
  for (const connector of connectors) {
    if ("brokenFile" in connector) {
      known.add(basename(connector.brokenFile, extname(connector.brokenFile)));
      continue;
    }
    if (connector.name === undefined) continue;
    if (!unique("connector", connector.name, connector.location, firstSeen, errors)) continue;
    known.add(connector.name);
    if (connector.config) valid.set(connector.name, connector.config);
  }
  const mappingNames = new Map<string, SourceLocation>();
  for (const mapping of mappings) {
    if ("brokenFile" in mapping) continue;
    if (mapping.name !== undefined) unique("mapping", mapping.name, mapping.location, mappingNames, errors);
    const targets = mapping.targets.filter((target) => checkTarget(target, valid, known));
    if (!mapping.settings || targets.length === 0) continue;
    const compiled = compileMapping(
      { ...mapping.settings, targets: targets.flatMap((t) => (t.config ? [t.config] : [])) },
      valid,
      hashKey !== undefined ? { hashKey } : {},
    );
    errors.push(...compiled.errors);
  }
  return valid;
}

function unique(
  what: string,
  name: string,
  location: SourceLocation,
  seen: Map<string, SourceLocation>,
  errors: ConfigError[],
): boolean {
  const first = seen.get(name);
  if (first === undefined) {
    seen.set(name, location);
    return true;
  }
  const where = `${displayFileName(first.file)}:${first.line}`;
  errors.push(
    new ConfigError(location, `duplicate ${what} name ${JSON.stringify(name)} (already defined at ${where})`, {
      expected: `a ${what} name used once`,
      found: JSON.stringify(name),
    }),
  );
  return false;
}

/** True when the target can be handed to the mapping engine. */
function checkTarget(
  target: ReadTarget,
  valid: ReadonlyMap<string, ConnectorConfig>,
  known: ReadonlySet<string>,
): boolean {
  if (target.connector === undefined || !target.connectorValue) return false;
  const connector = valid.get(target.connector);
  if (!connector) {
    if (!known.has(target.connector)) {
      const names = [...known].sort();
      const expected = names.length > 0 ? `one of ${names.join(", ")}` : "a connector defined in the connectors folder";
      target.connectorValue.fail(
        `unknown connector ${JSON.stringify(target.connector)} (expected ${expected})${suggestion(target.connector, names)}`,
        { expected, found: JSON.stringify(target.connector) },
      );
    }
    return false;
  }
  if (!target.config || !target.formatValue) return false;
  const formats = connector.format ? [connector.format] : FORMATS_BY_ADAPTER[connector.adapter];
  if (!formats.includes(target.config.format)) {
    target.formatValue.fail(
      connector.format
        ? `format ${target.config.format} cannot be sent through connector ${connector.name} (it carries ${connector.format} only)`
        : `format ${target.config.format} cannot be sent through connector ${connector.name} (adapter ${connector.adapter} takes ${formats.join(", ")})`,
      { expected: formats.join(" or "), found: target.config.format },
    );
    return false;
  }
  return true;
}
