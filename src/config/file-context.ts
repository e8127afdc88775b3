// What a reader knows about the configuration file it reads, and how a node maps to a file position.
import type { Document, LineCounter, Node } from "yaml";
import type { ConfigError, PathSegment } from "./config-error.js";
import type { SourceLocation } from "./types.js";

/** Everything a reader needs to know about the file it reads. */
export interface FileContext {
  /** Absolute path (or the name given to an in-memory document). */
  readonly file: string;
  /** Directory relative paths in this file are resolved against first. */
  readonly dir: string;
  /** The configuration root (ess.yaml's directory), tried second. */
  readonly root: string;
  /** The text as written (same offsets as the parsed, placeholder-protected text). */
  readonly source: string;
  readonly lineCounter: LineCounter;
  readonly doc: Document;
  readonly references: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly readFile: (path: string) => string;
  readonly fileExists: (path: string) => boolean;
  /** ess.yaml and connectors hold credentials; mappings do not. */
  readonly holdsSecrets: boolean;
  readonly errors: ConfigError[];
}

export function locationAt(
  ctx: FileContext,
  node: Node | null | undefined,
  path: readonly PathSegment[],
): SourceLocation {
  const offset = node?.range?.[0] ?? 0;
  const { line, col } = ctx.lineCounter.linePos(offset);
  return { file: ctx.file, line, column: col, path: [...path] };
}
