// What `essctl check --explain` shows: each recipe alias met in a file, and the file in canonical form.
import { isScalar, type Node, type Pair, Scalar, YAMLMap } from "yaml";
import { locationAt } from "./file-context.js";
import { restoreReferences } from "./interpolate.js";
import { isSecretPath } from "./secret-positions.js";
import type { FileContext } from "./yaml-reader.js";

/** One alias as written and what it stands for. */
export interface AliasUse {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** The alias as the file writes it, e.g. `mode: append_csv`. */
  readonly written: string;
  /** The canonical keys it stands for, e.g. `sftp.mode: append` and `format: csv`. */
  readonly canonical: string;
}

/** A file that used aliases, in canonical form (credentials hidden). */
export interface CanonicalFile {
  readonly file: string;
  readonly aliases: readonly AliasUse[];
  readonly text: string;
}

/** Receives every file that used an alias while a configuration loads. */
export type ExplainSink = (file: CanonicalFile) => void;

/** Collects the aliases of one file while it is rewritten into canonical form. */
export class RecipeNotes {
  readonly aliases: AliasUse[] = [];

  constructor(readonly ctx: FileContext) {}

  note(at: Node | null | undefined, written: string, canonical: string): void {
    const location = locationAt(this.ctx, at, []);
    this.aliases.push({ file: this.ctx.file, line: location.line, column: location.column, written, canonical });
  }

  /** The text as written: placeholders of `${…}` references restored. */
  raw(text: string): string {
    return restoreReferences(text, this.ctx.references);
  }

  /** Hands the canonical document to `sink` when the file used any alias. */
  report(sink: ExplainSink | undefined): void {
    if (!sink || this.aliases.length === 0) return;
    const shown = this.ctx.doc.clone();
    if (this.ctx.holdsSecrets) hideCredentials(shown.contents, []);
    sink({
      file: this.ctx.file,
      aliases: this.aliases,
      text: restoreReferences(shown.toString(), this.ctx.references),
    });
  }
}

/** Literal credentials are never printed; `${VAR}` references are, since they reveal nothing. */
function hideCredentials(node: unknown, path: string[]): void {
  if (!(node instanceof YAMLMap)) return;
  for (const pair of node.items as Pair[]) {
    const key = isScalar(pair.key) ? String(pair.key.value) : "?";
    const keyPath = [...path, key];
    const value = pair.value;
    if (value instanceof YAMLMap) hideCredentials(value, keyPath);
    else if (isScalar(value) && isSecretPath(keyPath) && typeof value.value === "string") {
      if (!/\uE000/.test(value.value)) pair.value = new Scalar("<hidden>");
    }
  }
}
