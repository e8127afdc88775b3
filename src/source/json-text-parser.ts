// A hand-written JSON parser for the cases the native one cannot serve: numbers that must stay
// exact, and wal2json's unescaped type names. Slower than JSON.parse; used only when needed.

/** A JSON text that could not be parsed, with the character position. */
export class JsonSyntaxError extends Error {
  override readonly name = "JsonSyntaxError";
  constructor(
    readonly reason: string,
    readonly position: number,
  ) {
    super(`invalid JSON: ${reason} at ${position}`);
  }
}

/** The number of a JSON number text when a double holds it exactly as an integer, else the text. */
export function exactNumber(raw: string): number | string {
  const digits = raw.charCodeAt(0) === 0x2d ? raw.length - 1 : raw.length;
  if (digits < 16 && !raw.startsWith("-0") && isIntegerLiteral(raw)) return Number(raw);
  return raw;
}

export function isNumberChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d;
}

/** The number a JSON number text stands for, or its text when a double cannot hold it exactly. */
export function jsonNumberValue(raw: string): number | string {
  const n = Number(raw);
  if (!Number.isFinite(n)) return raw;
  if (!Number.isSafeInteger(n) && Number.isInteger(n) && isIntegerLiteral(raw)) return raw;
  return n;
}

function isIntegerLiteral(raw: string): boolean {
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x2e || c === 0x65 || c === 0x45) return false;
  }
  return true;
}

type Parsed = null | boolean | string | number | Parsed[] | { [key: string]: Parsed };

export class JsonTextParser {
  private pos = 0;

  constructor(
    private readonly text: string,
    /** Numbers as their text (wal2json lines) rather than as JsonValue numbers (json columns). */
    private readonly numbersAsText: boolean,
  ) {}

  parseDocument(): Parsed {
    const value = this.parseValue();
    this.skipSpace();
    if (this.pos !== this.text.length) this.fail("trailing characters");
    return value;
  }

  private parseValue(): Parsed {
    this.skipSpace();
    const c = this.text.charCodeAt(this.pos);
    switch (c) {
      case 0x7b:
        return this.parseObject();
      case 0x5b:
        return this.parseArray();
      case 0x22: {
        const start = this.pos;
        const text = this.parseString();
        return this.numbersAsText && this.followsIdentifier() ? this.identifierChain(start) : text;
      }
      case 0x74:
        return this.literal("true", true);
      case 0x66:
        return this.literal("false", false);
      case 0x6e:
        return this.literal("null", null);
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.parseNumber();
        return this.fail("unexpected character");
    }
  }

  private parseObject(): Parsed {
    const out: { [key: string]: Parsed } = {};
    this.pos += 1;
    this.skipSpace();
    if (this.text.charCodeAt(this.pos) === 0x7d) {
      this.pos += 1;
      return out;
    }
    for (;;) {
      this.skipSpace();
      if (this.text.charCodeAt(this.pos) !== 0x22) this.fail("expected a member name");
      const key = this.parseString();
      this.skipSpace();
      if (this.text.charCodeAt(this.pos) !== 0x3a) this.fail("expected ':'");
      this.pos += 1;
      const value = this.parseValue();
      // A "__proto__" member is data, as JSON.parse treats it.
      if (key === "__proto__")
        Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
      else out[key] = value;
      this.skipSpace();
      const next = this.text.charCodeAt(this.pos);
      this.pos += 1;
      if (next === 0x7d) return out;
      if (next !== 0x2c) {
        this.pos -= 1;
        this.fail("expected ',' or '}'");
      }
    }
  }

  private parseArray(): Parsed[] {
    const out: Parsed[] = [];
    this.pos += 1;
    this.skipSpace();
    if (this.text.charCodeAt(this.pos) === 0x5d) {
      this.pos += 1;
      return out;
    }
    for (;;) {
      out.push(this.parseValue());
      this.skipSpace();
      const next = this.text.charCodeAt(this.pos);
      this.pos += 1;
      if (next === 0x5d) return out;
      if (next !== 0x2c) {
        this.pos -= 1;
        this.fail("expected ',' or ']'");
      }
    }
  }

  private parseString(): string {
    const { text } = this;
    let pos = this.pos + 1;
    let start = pos;
    let result = "";
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c === 0x22) {
        this.pos = pos + 1;
        return result + text.slice(start, pos);
      }
      if (c === 0x5c) {
        result += text.slice(start, pos);
        const e = text.charCodeAt(pos + 1);
        pos += 2;
        switch (e) {
          case 0x22:
            result += '"';
            break;
          case 0x5c:
            result += "\\";
            break;
          case 0x2f:
            result += "/";
            break;
          case 0x62:
            result += "\b";
            break;
          case 0x66:
            result += "\f";
            break;
          case 0x6e:
            result += "\n";
            break;
          case 0x72:
            result += "\r";
            break;
          case 0x74:
            result += "\t";
            break;
          case 0x75: {
            const code = Number.parseInt(text.slice(pos, pos + 4), 16);
            if (Number.isNaN(code) || pos + 4 > text.length) {
              this.pos = pos;
              this.fail("bad \\u escape");
            }
            result += String.fromCharCode(code);
            pos += 4;
            break;
          }
          default:
            this.pos = pos - 2;
            this.fail("bad escape");
        }
        start = pos;
      } else if (Number.isNaN(c)) {
        this.pos = pos;
        this.fail("unterminated string");
      } else {
        pos += 1;
      }
    }
  }

  // wal2json 2.5/2.6 prints a column type that format_type quoted ('"My S"."Odd Type"') without
  // JSON escaping, which is not valid JSON. Valid JSON never has '.' or '"' right after a string,
  // so seeing one means such a raw identifier chain: it is returned as its text.
  private followsIdentifier(): boolean {
    const c = this.text.charCodeAt(this.pos);
    return c === 0x2e || c === 0x22;
  }

  private identifierChain(start: number): string {
    const { text } = this;
    let pos = start;
    for (;;) {
      if (text.charCodeAt(pos) === 0x22) {
        pos += 1;
        for (;;) {
          const c = text.charCodeAt(pos);
          if (Number.isNaN(c)) {
            this.pos = pos;
            this.fail("unterminated quoted identifier");
          }
          pos += 1;
          if (c === 0x22) {
            if (text.charCodeAt(pos) !== 0x22) break;
            pos += 1;
          }
        }
      } else {
        for (;;) {
          const c = text.charCodeAt(pos);
          if (Number.isNaN(c) || c === 0x2e || c === 0x2c || c === 0x7d || c === 0x5d) break;
          pos += 1;
        }
      }
      if (text.charCodeAt(pos) !== 0x2e) break;
      pos += 1;
    }
    this.pos = pos;
    return text.slice(start, pos);
  }

  private parseNumber(): number | string {
    const { text } = this;
    const start = this.pos;
    let pos = start;
    if (text.charCodeAt(pos) === 0x2d) pos += 1;
    for (;;) {
      const c = text.charCodeAt(pos);
      if (isNumberChar(c)) pos += 1;
      else break;
    }
    const raw = text.slice(start, pos);
    if (Number.isNaN(Number(raw)) || pos === start) this.fail("bad number");
    this.pos = pos;
    return this.numbersAsText ? exactNumber(raw) : jsonNumberValue(raw);
  }

  private literal(word: string, value: boolean | null): boolean | null {
    if (!this.text.startsWith(word, this.pos)) this.fail("unexpected literal");
    this.pos += word.length;
    return value;
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
    throw new JsonSyntaxError(reason, this.pos);
  }
}
