// The syntax of a field expression, `column | formatter[:arg] | ...`, split into its source and formatter calls (no meaning attached yet).

/** Where a field's value comes from: a column (or pseudo-column such as _token), or a constant. */
export type FieldSource =
  | { readonly kind: "column"; readonly name: string }
  | { readonly kind: "const"; readonly text: string };

export interface FormatterCall {
  readonly name: string;
  /** The text after the first ':' (quotes removed, escapes kept for the formatter to split on); undefined without ':'. */
  readonly arg?: string;
  /** 1-based position of the call in the expression, for error messages. */
  readonly position: number;
}

export interface ParsedExpression {
  readonly source: FieldSource;
  readonly formatters: readonly FormatterCall[];
}

/** An expression that cannot be read; `expected` and `found` feed the configuration error. */
export class ExpressionSyntaxError extends Error {
  override readonly name = "ExpressionSyntaxError";
  readonly expected: string;
  readonly found: string;
  constructor(message: string, { expected, found }: { readonly expected: string; readonly found: string }) {
    super(message);
    this.expected = expected;
    this.found = found;
  }
}

const COLUMN = /^[A-Za-z_][A-Za-z0-9_$-]*$/;
const QUOTED_COLUMN = /^"((?:[^"]|"")+)"$/;
const FORMATTER_NAME = /^[A-Za-z][A-Za-z0-9-]*$/;

/** Splits on `sep` where it is not escaped by a backslash; escapes are kept for later unescaping. */
export function splitUnescaped(text: string, sep: string, limit = Number.POSITIVE_INFINITY): string[] {
  const parts: string[] = [];
  let current = "";
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === "\\" && i + 1 < text.length) {
      current += ch + text[i + 1];
      i++;
    } else if (ch === sep && parts.length < limit - 1) {
      parts.push(current);
      current = "";
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts;
}

/** Removes backslash escapes: `\|` → `|`, `\,` → `,`, `\\` → `\`. */
export function removeEscapes(text: string): string {
  return text.replace(/\\(.)/gs, "$1");
}

/** An argument wrapped in matching quotes keeps its spaces: lpad:8,' ' or default:"  ". */
function unquote(arg: string): string {
  const m = /^(['"])(.*)\1$/s.exec(arg);
  return m ? m[2]! : arg;
}

function parseCall(segment: string, position: number): FormatterCall {
  const colon = segment.indexOf(":");
  const name = (colon < 0 ? segment : segment.slice(0, colon)).trim();
  if (!FORMATTER_NAME.test(name)) {
    throw new ExpressionSyntaxError(
      `formatter ${position} ${segment === "" ? "is empty" : `${JSON.stringify(segment)} is not a formatter call`}`,
      {
        expected: "a formatter name such as upper, width:10 or pic:X(10)",
        found: segment === "" ? "an empty formatter between two |" : JSON.stringify(segment),
      },
    );
  }
  if (colon < 0) return { name: name.toLowerCase(), position };
  return { name: name.toLowerCase(), arg: unquote(segment.slice(colon + 1).trim()), position };
}

function parseSource(segment: string): FieldSource {
  if (/^const:/i.test(segment)) return { kind: "const", text: removeEscapes(unquote(segment.slice(6).trim())) };
  if (COLUMN.test(segment)) return { kind: "column", name: segment };
  const quoted = QUOTED_COLUMN.exec(segment);
  if (quoted) return { kind: "column", name: quoted[1]!.replace(/""/g, '"') };
  throw new ExpressionSyntaxError(
    segment === ""
      ? "the expression has no source column"
      : `${JSON.stringify(segment)} is not a column name or const:`,
    {
      expected: 'a column name (letters, digits, _; or "quoted") or const:<text>',
      found: segment === "" ? "nothing" : JSON.stringify(segment),
    },
  );
}

/** Parses `column | f1 | f2:arg`; the first part is the source. */
export function parseExpression(text: string): ParsedExpression {
  const segments = splitUnescaped(text, "|").map((s) => s.trim());
  const source = parseSource(segments[0]!);
  return { source, formatters: segments.slice(1).map((s, i) => parseCall(s, i + 1)) };
}

/** Parses a formatter list without a source (the long form's `format:` key): `upper | trim`. */
export function parseFormatterList(text: string): readonly FormatterCall[] {
  if (text.trim() === "") return [];
  return splitUnescaped(text, "|").map((s, i) => parseCall(s.trim(), i + 1));
}
