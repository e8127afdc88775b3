// Reads PostgreSQL's array text form (array_out) into nested JavaScript arrays, converting each
// element with the element type's conversion.

import type { Value } from "../change/value.js";
import { ValueConversionError } from "./decode-error.js";

export interface TypeLabel {
  readonly name: string;
  readonly oid: number;
}

export type ElementConverter = (text: string) => Value;

const OPEN = 0x7b; // {
const CLOSE = 0x7d; // }
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \
const BRACKET = 0x5b; // [

/**
 * Parses '{1,NULL,"a,b"}', '{{1,2},{3,4}}' or '[0:1]={1,2}' (non-default lower bounds are
 * dropped: ESS carries the elements, not the subscripts). An unquoted NULL is SQL NULL; a quoted
 * "NULL" is the text. `delimiter` is the element type's typdelim (',' except ';' for box).
 */
export function parseArrayText(text: string, delimiter: string, element: ElementConverter, label: TypeLabel): Value[] {
  return new ArrayTextParser(text, delimiter.charCodeAt(0), element, label).parse();
}

class ArrayTextParser {
  private pos = 0;

  constructor(
    private readonly text: string,
    private readonly delim: number,
    private readonly element: ElementConverter,
    private readonly label: TypeLabel,
  ) {}

  parse(): Value[] {
    const { text } = this;
    if (text.charCodeAt(0) === BRACKET) {
      const eq = text.indexOf("=");
      if (eq < 0) this.fail("dimension decoration without '='");
      this.pos = eq + 1;
    }
    this.skipSpace();
    if (text.charCodeAt(this.pos) !== OPEN) this.fail("array text must start with '{'");
    const result = this.readLevel();
    this.skipSpace();
    if (this.pos !== text.length) this.fail("trailing characters after the array");
    return result;
  }

  private readLevel(): Value[] {
    const { text } = this;
    this.pos += 1; // '{'
    const out: Value[] = [];
    this.skipSpace();
    if (text.charCodeAt(this.pos) === CLOSE) {
      this.pos += 1;
      return out;
    }
    for (;;) {
      this.skipSpace();
      const c = text.charCodeAt(this.pos);
      if (c === OPEN) out.push(this.readLevel());
      else if (c === QUOTE) out.push(this.element(this.readQuoted()));
      else if (Number.isNaN(c)) this.fail("unterminated array");
      else out.push(this.readUnquoted());
      this.skipSpace();
      const next = text.charCodeAt(this.pos);
      this.pos += 1;
      if (next === CLOSE) return out;
      if (next !== this.delim) {
        this.pos -= 1;
        this.fail(`expected '${String.fromCharCode(this.delim)}' or '}'`);
      }
    }
  }

  private readQuoted(): string {
    const { text } = this;
    let pos = this.pos + 1;
    let start = pos;
    let result = "";
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c === QUOTE) {
        this.pos = pos + 1;
        return result + text.slice(start, pos);
      }
      if (c === BACKSLASH) {
        if (pos + 1 >= text.length) break;
        result += text.slice(start, pos) + text[pos + 1];
        pos += 2;
        start = pos;
      } else if (Number.isNaN(c)) {
        break;
      } else {
        pos += 1;
      }
    }
    this.pos = pos;
    return this.fail("unterminated quoted element");
  }

  private readUnquoted(): Value {
    const { text, delim } = this;
    let pos = this.pos;
    let start = pos;
    let result = "";
    let escaped = false;
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c === delim || c === CLOSE || Number.isNaN(c)) break;
      if (c === OPEN || c === QUOTE) {
        this.pos = pos;
        this.fail("unexpected character in an unquoted element");
      }
      if (c === BACKSLASH) {
        if (pos + 1 >= text.length) break;
        result += text.slice(start, pos) + text[pos + 1];
        escaped = true;
        pos += 2;
        start = pos;
      } else {
        pos += 1;
      }
    }
    result += text.slice(start, pos);
    this.pos = pos;
    // array_in trims whitespace around unquoted elements; array_out never writes any.
    const item = escaped ? result : result.trim();
    if (!escaped && item.length === 4 && item.toUpperCase() === "NULL") return null;
    if (item.length === 0) this.fail("empty unquoted element");
    return this.element(item);
  }

  private skipSpace(): void {
    const { text } = this;
    let c = text.charCodeAt(this.pos);
    while (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) {
      this.pos += 1;
      c = text.charCodeAt(this.pos);
    }
  }

  private fail(reason: string): never {
    throw new ValueConversionError({ typeName: this.label.name, typeOid: this.label.oid, reason, position: this.pos });
  }
}
