// `${VAR}`, `${VAR:-default}` and `${file:/path}` references in configuration strings.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} and ${file:} are configuration syntax here, not template literals

/*
 * YAML does not allow `{` inside a plain scalar of a flow mapping, so the SPEC's
 * `security: { username: ${COUNTY_USER}, password: ${COUNTY_PASS} }` is not valid YAML as is.
 * Before parsing, every reference is swapped for a placeholder of the same length made of
 * private-use characters (legal in any scalar), which keeps every line and column where the
 * operator wrote it; string values get the reference text back before interpolation.
 */
const REFERENCE = /\$?\$\{[^}\r\n]+\}/g;
const MARKER = 0xe000;
const FILLER = String.fromCharCode(0xe001);
const DIGIT_BASE = 0xe100;
const DIGIT_COUNT = 0xf00;
const PLACEHOLDER = /\uE000([\uE100-\uEFFF])([\uE100-\uEFFF])\uE001*/g;

export interface ProtectedText {
  readonly text: string;
  /** The reference texts, indexed by placeholder number. */
  readonly references: readonly string[];
}

export function protectReferences(text: string): ProtectedText {
  const references: string[] = [];
  const protectedText = text.replace(REFERENCE, (reference) => {
    const index = references.push(reference) - 1;
    const high = String.fromCharCode(DIGIT_BASE + Math.floor(index / DIGIT_COUNT));
    const low = String.fromCharCode(DIGIT_BASE + (index % DIGIT_COUNT));
    return String.fromCharCode(MARKER) + high + low + FILLER.repeat(reference.length - 3);
  });
  return { text: protectedText, references };
}

export function restoreReferences(text: string, references: readonly string[]): string {
  if (!text.includes(String.fromCharCode(MARKER))) return text;
  return text.replace(PLACEHOLDER, (placeholder, high: string, low: string) => {
    const index = (high.charCodeAt(0) - DIGIT_BASE) * DIGIT_COUNT + (low.charCodeAt(0) - DIGIT_BASE);
    return references[index] ?? placeholder;
  });
}

export interface InterpolationSources {
  readonly env: NodeJS.ProcessEnv;
  /** Reads a `${file:…}` path, already resolved; throws an Error with a code (ENOENT…) when it cannot. */
  readFile(path: string): string;
  /** Resolves a relative `${file:…}` path the way every relative path in this file is resolved. */
  resolvePath(path: string): string;
}

/** A piece of the result that came from outside the file. */
export interface ResolvedReference {
  readonly kind: "env" | "file";
  /** `${COUNTY_PASS}` as written: what messages show instead of the value. */
  readonly reference: string;
  readonly value: string;
  /** True when the variable was unset or empty and the `:-` default was used. */
  readonly defaulted: boolean;
}

export type Interpolation =
  | { readonly ok: true; readonly value: string; readonly resolved: readonly ResolvedReference[] }
  | { readonly ok: false; readonly reason: string; readonly expected?: string };

const VARIABLE = /^([A-Za-z_][A-Za-z0-9_]*)(?::-([\s\S]*))?$/;

/** Replaces every reference in `raw`; `$${…}` stays a literal `${…}`. */
export function interpolate(raw: string, sources: InterpolationSources): Interpolation {
  if (!raw.includes("${")) return { ok: true, value: raw, resolved: [] };
  const resolved: ResolvedReference[] = [];
  let value = "";
  let at = 0;
  while (at < raw.length) {
    const start = raw.indexOf("${", at);
    if (start < 0) {
      value += raw.slice(at);
      break;
    }
    if (start > at && raw[start - 1] === "$") {
      value += raw.slice(at, start - 1) + "${";
      at = start + 2;
      continue;
    }
    value += raw.slice(at, start);
    const end = raw.indexOf("}", start + 2);
    if (end < 0) {
      return {
        ok: false,
        reason: `unterminated reference ${JSON.stringify(raw.slice(start))}`,
        expected: "${VAR}, ${VAR:-default} or ${file:/path}",
      };
    }
    const reference = raw.slice(start, end + 1);
    const body = raw.slice(start + 2, end);
    const piece = resolveReference(reference, body, sources);
    if (!piece.ok) return piece;
    resolved.push(piece.reference);
    value += piece.reference.value;
    at = end + 1;
  }
  return { ok: true, value, resolved };
}

type ReferenceResult =
  | { readonly ok: true; readonly reference: ResolvedReference }
  | Extract<Interpolation, { ok: false }>;

function resolveReference(reference: string, body: string, sources: InterpolationSources): ReferenceResult {
  if (body.startsWith("file:")) {
    const path = body.slice("file:".length);
    if (path === "") return { ok: false, reason: `${reference} names no file`, expected: "${file:/path/to/secret}" };
    const absolute = sources.resolvePath(path);
    try {
      // Secret files usually end with a newline that is not part of the secret.
      const value = sources.readFile(absolute).replace(/[\r\n]+$/, "");
      return { ok: true, reference: { kind: "file", reference, value, defaulted: false } };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      return { ok: false, reason: `cannot read ${reference} (${absolute}): ${code}`, expected: "a readable file" };
    }
  }
  const match = VARIABLE.exec(body);
  if (!match?.[1]) {
    return {
      ok: false,
      reason: `${reference} is not a valid reference`,
      expected: "${VAR}, ${VAR:-default} or ${file:/path}",
    };
  }
  const name = match[1];
  const fallback = match[2];
  const current = sources.env[name];
  if (fallback !== undefined && (current === undefined || current === "")) {
    return { ok: true, reference: { kind: "env", reference, value: fallback, defaulted: true } };
  }
  if (current === undefined) {
    return {
      ok: false,
      reason: `environment variable ${name} is not set (${reference})`,
      expected: `${name} set, or a default: \${${name}:-value}`,
    };
  }
  return { ok: true, reference: { kind: "env", reference, value: current, defaulted: false } };
}
