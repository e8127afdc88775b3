// JSON parsing that never loses a number silently: wal2json lines keep each number's exact text
// (numeric and int8 columns arrive as bare JSON numbers), and json/jsonb column documents keep
// integers beyond 2^53 and out-of-range numbers as their decimal text.

import type { JsonValue } from "../change/value.js";
import { isNumberChar, JsonSyntaxError, JsonTextParser } from "./json-text-parser.js";

export { JsonSyntaxError };

/**
 * A JSON document whose numbers are exact: an integer a double holds exactly (fewer than 16
 * digits) is a number, any other number is its text ('99999999.99', '9007199254740993', '-0').
 */
export type JsonTextTree = null | boolean | number | string | JsonTextTree[] | { [key: string]: JsonTextTree };

/**
 * Parses JSON keeping every number exact (see JsonTextTree); a number kept as text reads the
 * same as a string of the same digits, which is fine for callers that convert by column type.
 * Numbers are quoted in one scan and the native parser does the rest; only text that is not
 * valid JSON takes the slower hand-written parser, which also reads wal2json's unescaped type
 * names (see identifierChain).
 */
export function parseJsonNumbersAsText(text: string): JsonTextTree {
  const quoted = quoteInexactNumbers(text);
  try {
    return JSON.parse(quoted) as JsonTextTree;
  } catch {
    return new JsonTextParser(text, true).parseDocument() as JsonTextTree;
  }
}

/** Wraps in quotes every number outside strings that a double might not hold exactly. */
function quoteInexactNumbers(text: string): string {
  let out = "";
  let last = 0;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      i = stringEnd(text, i);
      if (i < 0) return text; // unterminated: let the parsers report it
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      let j = i + 1;
      let integer = true;
      for (; j < length; j++) {
        const d = text.charCodeAt(j);
        if (d >= 0x30 && d <= 0x39) continue;
        if (!isNumberChar(d)) break;
        integer = false;
      }
      if (!integer || j - i >= 16 || text.startsWith("-0", i)) {
        out += `${text.slice(last, i)}"${text.slice(i, j)}"`;
        last = j;
      }
      i = j - 1;
    }
  }
  return last === 0 ? text : out + text.slice(last);
}

/** Index of the quote closing the string that opens at `start`, or -1. */
function stringEnd(text: string, start: number): number {
  let at = text.indexOf('"', start + 1);
  while (at > 0) {
    let backslashes = 0;
    while (text.charCodeAt(at - 1 - backslashes) === 0x5c) backslashes += 1;
    if (backslashes % 2 === 0) return at;
    at = text.indexOf('"', at + 1);
  }
  return -1;
}

// Digit runs of 16+ may be integers beyond 2^53; 3-digit exponents may overflow a double.
const MAY_LOSE_PRECISION = /\d{16}|[eE][+-]?\d{3}/;

/**
 * Parses a json/jsonb column. Numbers become JavaScript numbers, except an integer beyond
 * ±(2^53 - 1) or a number outside the double range (e.g. 1e400), which stays a string holding
 * its exact decimal text: a silently rounded account number is worse than a quoted one.
 */
export function parseJsonDocument(text: string): JsonValue {
  if (!MAY_LOSE_PRECISION.test(text)) {
    try {
      return JSON.parse(text) as JsonValue;
    } catch {
      // Fall through: the exact parser reports the position of the error.
    }
  }
  return new JsonTextParser(text, false).parseDocument() as JsonValue;
}
