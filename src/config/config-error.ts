// The errors a configuration can have, each pointing at a file, a line, a column and a field path.
import { isAbsolute, relative } from "node:path";
import { redactSecrets } from "./secrets.js";
import type { SourceLocation } from "./types.js";

export type PathSegment = string | number;

/** `["targets", 0, "fields", "PERMIT_ID"]` → `targets[0].fields.PERMIT_ID`. */
export function formatFieldPath(path: readonly PathSegment[]): string {
  let text = "";
  for (const segment of path) {
    if (typeof segment === "number") text += `[${segment}]`;
    else if (/^[A-Za-z0-9_$-]+$/.test(segment)) text += text === "" ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}

/** The file name as an operator types it: relative to the working directory when under it. */
export function displayFileName(file: string): string {
  if (!isAbsolute(file)) return file;
  const rel = relative(process.cwd(), file);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) ? rel : file;
}

export interface ConfigErrorDetails {
  /** What would have been accepted, e.g. `one of key, connector, none`. */
  readonly expected?: string;
  /** What the file holds instead (secrets are shown as their `${…}` reference, never their value). */
  readonly found?: string;
}

/** One problem in one configuration file, e.g. `mappings/permit_status.yaml:12:7: targets[0].fields.TS: …`. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** The field path as text, e.g. `targets[0].fields.PERMIT_ID` (empty for the document itself). */
  readonly path: string;
  readonly segments: readonly PathSegment[];
  readonly reason: string;
  readonly expected?: string;
  readonly found?: string;

  constructor(location: SourceLocation, reason: string, details: ConfigErrorDetails = {}) {
    const path = formatFieldPath(location.path);
    const where = `${displayFileName(location.file)}:${location.line}:${location.column}`;
    super(redactSecrets(`${where}: ${path === "" ? "" : `${path}: `}${reason}`));
    this.file = location.file;
    this.line = location.line;
    this.column = location.column;
    this.path = path;
    this.segments = location.path;
    this.reason = redactSecrets(reason);
    if (details.expected !== undefined) this.expected = redactSecrets(details.expected);
    if (details.found !== undefined) this.found = redactSecrets(details.found);
  }

  /** Redacts again: a secret may have been registered after this error was built (a later line). */
  redact(): void {
    const self = this as { message: string; reason: string; expected?: string; found?: string };
    self.message = redactSecrets(self.message);
    self.reason = redactSecrets(self.reason);
    if (self.expected !== undefined) self.expected = redactSecrets(self.expected);
    if (self.found !== undefined) self.found = redactSecrets(self.found);
  }

  toJSON(): Record<string, unknown> {
    return {
      file: this.file,
      line: this.line,
      column: this.column,
      path: this.path,
      message: this.message,
      expected: this.expected,
      found: this.found,
    };
  }
}

/** Every problem of every configuration file, sorted by file and position. */
export class ConfigErrors extends Error {
  override readonly name = "ConfigErrors";
  readonly errors: readonly ConfigError[];

  /** `fileOrder`: the order files were read in (ess.yaml, connectors, mappings); others sort by name after them. */
  constructor(errors: readonly ConfigError[], fileOrder: readonly string[] = []) {
    const rank = (file: string): number => {
      const index = fileOrder.indexOf(file);
      return index < 0 ? fileOrder.length : index;
    };
    const sorted = [...errors].sort((a, b) => rank(a.file) - rank(b.file) || compareErrors(a, b));
    for (const error of sorted) error.redact();
    const count = sorted.length === 1 ? "1 configuration error" : `${sorted.length} configuration errors`;
    super(`${count}:\n${sorted.map((e) => `  ${e.message}`).join("\n")}`);
    this.errors = sorted;
  }
}

function compareErrors(a: ConfigError, b: ConfigError): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return a.line - b.line || a.column - b.column;
}
