// Where a YAML syntax error really is: the yaml library notices an unclosed `{`, `[` or quote only
// where the next key starts (a line late, under the next field); this points back at the opening.
import { type Document, isCollection, isScalar, type Node, Scalar, visit } from "yaml";

/** A syntax problem as the parser saw it, and the offset the mistake was made at. */
export interface SyntaxSpot {
  /** Offset in the text of the construct left open, or the parser's own offset. */
  readonly offset: number;
  /** What was left open, e.g. `the "{" opened here is never closed with "}"`; absent when nothing was. */
  readonly unclosed?: string;
}

const CLOSING: Readonly<Record<string, string>> = { "{": "}", "[": "]", '"': '"', "'": "'" };

/**
 * The innermost flow collection or quoted scalar that the parser ended at `offset` without its
 * closing character: the mistake is where it opens. Otherwise the parser's offset stands.
 */
export function locateSyntaxError(doc: Document, source: string, offset: number): SyntaxSpot {
  let found: { start: number; opener: string } | undefined;
  visit(doc, (_key, node) => {
    const open = unclosedOpening(node as Node, source);
    if (open === undefined) return;
    const end = (node as Node).range?.[1];
    const valueEnd = (node as Node).range?.[2];
    if (
      end !== offset &&
      valueEnd !== offset &&
      !(end !== undefined && offset >= end && onlySpaceBetween(source, end, offset))
    )
      return;
    if (found === undefined || open.start > found.start) found = open;
  });
  if (found === undefined) return { offset };
  const unclosed =
    found.opener === "{" || found.opener === "["
      ? `the ${found.opener} opened here is never closed with ${CLOSING[found.opener]}`
      : `the quoted string opened here is never closed with its ${found.opener}`;
  return { offset: found.start, unclosed };
}

/** The opening of a flow collection or quoted scalar whose text lacks its closing character. */
function unclosedOpening(node: Node | null, source: string): { start: number; opener: string } | undefined {
  const range = node?.range;
  if (!range) return undefined;
  const text = source.slice(range[0], range[1]).trimEnd();
  const opener = text[0] ?? "";
  if (isCollection(node) && node.flow && (opener === "{" || opener === "[")) {
    return text.endsWith(CLOSING[opener] ?? "") && text.length > 1 ? undefined : { start: range[0], opener };
  }
  const quoted = isScalar(node) && (node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE);
  if (quoted && (opener === '"' || opener === "'")) {
    return text.length > 1 && text.endsWith(opener) && !endsEscaped(text, opener)
      ? undefined
      : { start: range[0], opener };
  }
  return undefined;
}

/** A double-quoted text ending in `\"` has not been closed by that quote. */
function endsEscaped(text: string, opener: string): boolean {
  if (opener !== '"') return false;
  let backslashes = 0;
  for (let i = text.length - 2; i > 0 && text[i] === "\\"; i--) backslashes++;
  return backslashes % 2 === 1;
}

function onlySpaceBetween(source: string, from: number, to: number): boolean {
  return /^\s*$/.test(source.slice(from, to));
}
