// Typed, position-aware reading of a parsed YAML document: every wrong value becomes a ConfigError at its line.
import { isAlias, isMap, isScalar, isSeq, type Node, type YAMLMap } from "yaml";
import { ConfigError, type ConfigErrorDetails, type PathSegment } from "./config-error.js";
import { DURATION_EXAMPLES, parseDuration } from "./duration.js";
import { type FileContext, locationAt } from "./file-context.js";
import { interpolate, restoreReferences } from "./interpolate.js";
import { resolveConfigPath } from "./paths.js";
import { isSecretPath, registerSecrets } from "./secret-positions.js";
import { redactUrl } from "./secrets.js";
import { suggestion } from "./suggestion.js";
import type { SourceLocation } from "./types.js";

export type { FileContext } from "./file-context.js";

export function oneOfText(values: readonly string[]): string {
  return `one of ${values.join(", ")}`;
}

/** The text of a scalar plus where its parts came from. */
export interface ReadText {
  readonly value: string;
  readonly raw: string;
  readonly interpolated: boolean;
}

/** A value at a path in a document; every accessor reports what is wrong with it and returns undefined. */
export class ValueReader {
  readonly node: Node | null;

  constructor(
    readonly ctx: FileContext,
    node: Node | null | undefined,
    readonly path: readonly PathSegment[],
    /** Where to point when the value itself is absent (the key that names it). */
    private readonly anchor: Node | null = null,
  ) {
    this.node = (isAlias(node) ? node.resolve(ctx.doc) : node) ?? null;
  }

  get location(): SourceLocation {
    return locationAt(this.ctx, this.node?.range ? this.node : this.anchor, this.path);
  }

  get isNull(): boolean {
    return this.node === null || (isScalar(this.node) && this.node.value === null);
  }

  fail(reason: string, details: ConfigErrorDetails = {}): undefined {
    this.ctx.errors.push(new ConfigError(this.location, reason, details));
    return undefined;
  }

  /** What the file holds here, for `found`; credentials are shown by reference, never by value. */
  describe(): string {
    const node = this.node;
    if (this.isNull) return "nothing";
    if (isMap(node)) return "a mapping";
    if (isSeq(node)) return "a list";
    if (!isScalar(node)) return "an unsupported node";
    const raw = typeof node.value === "string" ? restoreReferences(node.value, this.ctx.references) : this.sourceText();
    if (this.ctx.holdsSecrets && isSecretPath(this.path)) return raw.includes("${") ? raw : "a hidden value";
    if (typeof node.value === "string") return quote(raw);
    return raw;
  }

  /** Like describe(), for a value already interpolated: `"abc" (from ${SFTP_PORT})`. */
  describeText(read: ReadText): string {
    if (this.ctx.holdsSecrets && isSecretPath(this.path)) return read.interpolated ? read.raw : "a hidden value";
    return read.interpolated ? `${quote(read.value)} (from ${read.raw})` : quote(read.value);
  }

  /** Any scalar as text, interpolated; numbers and booleans keep the spelling of the file (`pad: 0`). */
  text(expected = "a string"): ReadText | undefined {
    const node = this.node;
    if (this.isNull || !isScalar(node))
      return this.fail(`expected ${expected}, found ${this.describe()}`, this.details(expected));
    const raw = typeof node.value === "string" ? restoreReferences(node.value, this.ctx.references) : this.sourceText();
    const ctx = this.ctx;
    const result = interpolate(raw, {
      env: ctx.env,
      readFile: ctx.readFile,
      resolvePath: (path) => resolveConfigPath(path, ctx).path,
    });
    if (!result.ok) return this.fail(result.reason, { expected: result.expected ?? expected, found: raw });
    registerSecrets(this.path, ctx.holdsSecrets, result.value, result.resolved);
    return { value: result.value, raw, interpolated: result.resolved.length > 0 };
  }

  string(expected = "a non-empty string"): string | undefined {
    const read = this.text(expected);
    if (read === undefined) return undefined;
    if (read.value === "") return this.fail(`expected ${expected}, found an empty string`, this.details(expected));
    return read.value;
  }

  /** A string that must pass `test`; `reason` explains the rule in the message. */
  matching(test: RegExp | ((value: string) => boolean), expected: string, reason?: string): string | undefined {
    const read = this.text(expected);
    if (read === undefined) return undefined;
    const value = read.value;
    const ok = value !== "" && (typeof test === "function" ? test(value) : test.test(value));
    if (!ok) {
      const found = value === "" ? "an empty string" : this.describeText(read);
      return this.fail(reason ?? `${found} is not ${expected}`, { expected, found });
    }
    return value;
  }

  integer(range: { min?: number; max?: number; expected?: string } = {}): number | undefined {
    const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = range;
    const expected = range.expected ?? `an integer from ${min} to ${max}`;
    const node = this.node;
    let value: number | undefined;
    if (isScalar(node) && typeof node.value === "number" && Number.isSafeInteger(node.value)) {
      value = node.value;
    } else if (isScalar(node) && typeof node.value === "string" && node.value !== "") {
      // A `${VAR}` reference is a string to YAML; it may still hold a number.
      const read = this.text(expected);
      if (read === undefined) return undefined;
      if (read.interpolated && /^-?\d+$/.test(read.value.trim())) value = Number(read.value.trim());
      else
        return this.fail(`expected ${expected}, found ${this.describeText(read)}`, {
          expected,
          found: this.describeText(read),
        });
    }
    if (value === undefined) return this.fail(`expected ${expected}, found ${this.describe()}`, this.details(expected));
    if (value < min || value > max) {
      return this.fail(`${value} is out of range (expected ${expected})`, { expected, found: String(value) });
    }
    return value;
  }

  boolean(): boolean | undefined {
    const node = this.node;
    if (isScalar(node) && typeof node.value === "boolean") return node.value;
    if (isScalar(node) && typeof node.value === "string") {
      const read = this.text("true or false");
      if (read === undefined) return undefined;
      if (read.interpolated && (read.value === "true" || read.value === "false")) return read.value === "true";
      const found = this.describeText(read);
      return this.fail(`expected true or false, found ${found}`, { expected: "true or false", found });
    }
    return this.fail(`expected true or false, found ${this.describe()}`, this.details("true or false"));
  }

  oneOf<T extends string>(values: readonly T[], what = "value"): T | undefined {
    const expected = oneOfText(values);
    const read = this.text(expected);
    if (read === undefined) return undefined;
    if ((values as readonly string[]).includes(read.value)) return read.value as T;
    const found = this.describeText(read);
    return this.fail(`unknown ${what} ${found} (expected ${expected})${suggestion(read.value, values)}`, {
      expected,
      found,
    });
  }

  /** A scalar as YAML typed it (for `where` values); integers too large for a number keep their text. */
  scalar(expected = "a string, number, true, false or null"): string | number | boolean | null | undefined {
    const node = this.node;
    if (!isScalar(node)) return this.fail(`expected ${expected}, found ${this.describe()}`, this.details(expected));
    const value = node.value;
    if (value === null || typeof value === "boolean") return value;
    if (typeof value === "number")
      return Number.isInteger(value) && !Number.isSafeInteger(value) ? this.sourceText() : value;
    return this.text(expected)?.value;
  }

  /** Milliseconds. */
  duration(range: { allowZero?: boolean } = {}): number | undefined {
    const node = this.node;
    if (isScalar(node) && typeof node.value === "number") {
      return this.fail(`expected ${DURATION_EXAMPLES}, found ${this.describe()} (a number needs a unit)`, {
        expected: DURATION_EXAMPLES,
        found: this.describe(),
      });
    }
    const read = this.text(DURATION_EXAMPLES);
    if (read === undefined) return undefined;
    const ms = parseDuration(read.value.trim());
    if (ms === undefined) {
      const found = this.describeText(read);
      return this.fail(`${found} is not ${DURATION_EXAMPLES}`, { expected: DURATION_EXAMPLES, found });
    }
    if (ms === 0 && !range.allowZero) {
      return this.fail("the duration must be longer than zero", { expected: DURATION_EXAMPLES, found: read.value });
    }
    return ms;
  }

  /** A mapping; with `keys`, every other key is reported as unknown. */
  map(keys?: readonly string[], expected = "a mapping"): MapReader | undefined {
    if (!isMap(this.node)) return this.fail(`expected ${expected}, found ${this.describe()}`, this.details(expected));
    return new MapReader(this.ctx, this.node, this.path, this.anchor, keys);
  }

  list(expected = "a list"): ValueReader[] | undefined {
    const node = this.node;
    if (!isSeq(node)) return this.fail(`expected ${expected}, found ${this.describe()}`, this.details(expected));
    return node.items.map((item, index) => new ValueReader(this.ctx, item as Node, [...this.path, index], node));
  }

  /** A list, or a single item standing for a list of one (`ops: insert`). */
  listOrOne(expected = "a list"): ValueReader[] | undefined {
    if (isSeq(this.node)) return this.list(expected);
    if (isScalar(this.node) && !this.isNull) return [this];
    return this.fail(`expected ${expected}, found ${this.describe()}`, this.details(expected));
  }

  private details(expected: string): ConfigErrorDetails {
    return { expected, found: this.describe() };
  }

  private sourceText(): string {
    const range = this.node?.range;
    return range ? this.ctx.source.slice(range[0], range[1]).trim() : String((this.node as { value?: unknown })?.value);
  }
}

function quote(text: string): string {
  const shown = redactUrl(text);
  return JSON.stringify(shown.length > 80 ? `${shown.slice(0, 77)}...` : shown);
}

export interface MapEntry {
  readonly key: string;
  readonly value: ValueReader;
  readonly location: SourceLocation;
}

/** A YAML mapping whose keys are checked against the ones the format knows. */
export class MapReader {
  private readonly entriesByKey = new Map<string, MapEntry>();

  constructor(
    readonly ctx: FileContext,
    readonly node: YAMLMap,
    readonly path: readonly PathSegment[],
    private readonly anchor: Node | null,
    allowed?: readonly string[],
  ) {
    for (const pair of node.items) {
      const keyNode = pair.key as Node | null;
      const key = this.keyText(keyNode);
      const keyPath = [...path, key ?? "?"];
      const location = locationAt(ctx, keyNode ?? (pair.value as Node | null), keyPath);
      if (key === undefined) {
        ctx.errors.push(new ConfigError(location, "a key must be a plain name", { expected: "a name" }));
        continue;
      }
      if (allowed && !allowed.includes(key)) {
        const reason = `unknown key ${JSON.stringify(key)} (expected ${oneOfText(allowed)})${suggestion(key, allowed)}`;
        ctx.errors.push(
          new ConfigError(location, reason, { expected: oneOfText(allowed), found: JSON.stringify(key) }),
        );
        continue;
      }
      const value = new ValueReader(ctx, pair.value as Node | null, keyPath, keyNode);
      this.entriesByKey.set(key, { key, value, location });
    }
  }

  get location(): SourceLocation {
    return locationAt(this.ctx, this.anchor ?? this.node, this.path);
  }

  has(key: string): boolean {
    return this.entriesByKey.has(key);
  }

  get(key: string): ValueReader | undefined {
    return this.entriesByKey.get(key)?.value;
  }

  /** The value, or a "missing" error naming the field and what it should hold. */
  require(key: string, expected: string): ValueReader | undefined {
    const value = this.get(key);
    if (value === undefined) {
      const location = { ...this.location, path: [...this.path, key] };
      this.ctx.errors.push(
        new ConfigError(location, `missing required key "${key}" (expected ${expected})`, { expected }),
      );
    }
    return value;
  }

  entries(): MapEntry[] {
    return [...this.entriesByKey.values()];
  }

  fail(reason: string, details: ConfigErrorDetails = {}): undefined {
    this.ctx.errors.push(new ConfigError(this.location, reason, details));
    return undefined;
  }

  private keyText(node: Node | null): string | undefined {
    if (!isScalar(node) || node.value === null || typeof node.value === "object") return undefined;
    if (typeof node.value === "string") return restoreReferences(node.value, this.ctx.references);
    const range = node.range;
    return range ? this.ctx.source.slice(range[0], range[1]).trim() : String(node.value);
  }
}
