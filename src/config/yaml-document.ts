// Opens one configuration file: YAML syntax errors become ConfigErrors, the content a ValueReader.
import { dirname } from "node:path";
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import { ConfigError, type PathSegment } from "./config-error.js";
import { protectReferences, restoreReferences } from "./interpolate.js";
import { type FileContext, ValueReader } from "./yaml-reader.js";
import { locateSyntaxError } from "./yaml-syntax.js";

/** One configuration document: a file on disk, or text given in code (its `file` names it in messages). */
export interface ConfigDocument {
  readonly file: string;
  readonly text: string;
}

export interface DocumentOptions {
  readonly root: string;
  readonly env: NodeJS.ProcessEnv;
  readonly readFile: (path: string) => string;
  readonly fileExists: (path: string) => boolean;
  readonly holdsSecrets: boolean;
  /** What the file should hold and how to fix an empty one, for the "empty" error. */
  readonly whenEmpty: string;
}

/** The document's top-level value, or undefined when it has syntax errors (already pushed to `errors`). */
export function openDocument(
  input: ConfigDocument,
  options: DocumentOptions,
  errors: ConfigError[],
): ValueReader | undefined {
  const { text, references } = protectReferences(input.text);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const ctx: FileContext = {
    file: input.file,
    dir: dirname(input.file),
    root: options.root,
    source: input.text,
    lineCounter,
    doc,
    references,
    env: options.env,
    readFile: options.readFile,
    fileExists: options.fileExists,
    holdsSecrets: options.holdsSecrets,
    errors,
  };
  const problems = [...doc.errors, ...doc.warnings];
  const reported = new Set<number>();
  for (const problem of problems) {
    const spot = locateSyntaxError(doc, input.text, problem.pos[0]);
    // One mistake often trips several parser rules at the same place: the first says it.
    if (reported.has(spot.offset)) continue;
    reported.add(spot.offset);
    const { line, col } = lineCounter.linePos(spot.offset);
    const message = restoreReferences(problem.message, references);
    const reason = spot.unclosed
      ? `YAML syntax: ${spot.unclosed} (the parser noticed at line ${lineCounter.linePos(problem.pos[0]).line}: ${message})`
      : `YAML syntax: ${message}`;
    const path = pathAt(doc.contents, spot.offset, references);
    errors.push(new ConfigError({ file: input.file, line, column: col, path }, reason, { expected: "valid YAML" }));
  }
  if (problems.length > 0) return undefined;
  if (doc.contents === null) {
    errors.push(
      new ConfigError({ file: input.file, line: 1, column: 1, path: [] }, `the file is empty: ${options.whenEmpty}`, {
        expected: "a mapping",
        found: "nothing",
      }),
    );
    return undefined;
  }
  return new ValueReader(ctx, doc.contents, []);
}

/** The field path of the node at `offset`, as far as the broken document could be parsed. */
function pathAt(node: Node | null | undefined, offset: number, references: readonly string[]): PathSegment[] {
  const within = (n: unknown): boolean => {
    const range = (n as Node | null)?.range;
    return range !== undefined && range !== null && offset >= range[0] && offset < range[2];
  };
  // An error at the very start of a value belongs to the field holding it, not to the value's first entry.
  const descend = (n: Node | null, prefix: PathSegment): PathSegment[] =>
    n?.range && offset > n.range[0] ? [prefix, ...pathAt(n, offset, references)] : [prefix];
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = pair.key as Node | null;
      const value = pair.value as Node | null;
      const name = isScalar(key) ? restoreReferences(String(key.value), references) : "?";
      if (within(key)) return [name];
      if (within(value)) return descend(value, name);
    }
  } else if (isSeq(node)) {
    for (const [index, item] of node.items.entries()) {
      if (within(item)) return descend(item as Node, index);
    }
  }
  return [];
}
