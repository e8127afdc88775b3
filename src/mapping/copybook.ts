// COBOL copybooks read into record layouts: levels, PIC X/9/S9/V with DISPLAY, COMP-3 or COMP
// usage, OCCURS of a fixed count and FILLER. What would make a layout ambiguous (REDEFINES,
// RENAMES, OCCURS DEPENDING ON, SYNC slack bytes) is refused with the file and line.
import { type Picture, PictureSyntaxError, parsePicture, pictureByteLength } from "./pic.js";

/** A copybook this engine cannot turn into a fixed layout, at its file and line. */
export class CopybookError extends Error {
  override readonly name = "CopybookError";
  readonly file: string;
  readonly line: number;
  readonly reason: string;
  constructor({ file, line, reason }: { readonly file: string; readonly line: number; readonly reason: string }) {
    super(`${file}:${line}: ${reason}`);
    this.file = file;
    this.line = line;
    this.reason = reason;
  }
}

/** One elementary item of a record, OCCURS expanded (`AMOUNT-1`, `AMOUNT-2`…). */
export interface CopybookField {
  /** The data name, or FILLER. */
  readonly name: string;
  readonly filler: boolean;
  /** The PICTURE with its usage, as this engine's `pic:` formatter reads it: `S9(7)V99 COMP-3`. */
  readonly picture: string;
  readonly parsed: Picture;
  readonly offset: number;
  readonly width: number;
  /** A VALUE literal's text (FILLER constants): quotes removed, SPACES as "", ZEROS as "0". */
  readonly value?: string;
  /** A hexadecimal VALUE literal (X"0D25"), as bytes. */
  readonly hexValue?: Buffer;
  readonly line: number;
}

/** A level-01 record of the copybook. */
export interface CopybookRecord {
  readonly name: string;
  readonly line: number;
  readonly fields: readonly CopybookField[];
  readonly length: number;
}

interface Token {
  readonly text: string;
  readonly line: number;
}

interface Entry {
  readonly level: number;
  readonly name: string;
  readonly line: number;
  readonly occurs: number;
  readonly picture?: string;
  readonly usage?: string;
  readonly value?: Token;
}

interface Node extends Entry {
  readonly children: Node[];
}

const USAGE_WORDS = new Set([
  "DISPLAY",
  "COMP",
  "COMP-3",
  "COMP-4",
  "COMPUTATIONAL",
  "COMPUTATIONAL-3",
  "COMPUTATIONAL-4",
  "PACKED-DECIMAL",
  "BINARY",
]);
const FLOAT_OR_NATIVE = new Set([
  "COMP-1",
  "COMP-2",
  "COMP-5",
  "COMPUTATIONAL-1",
  "COMPUTATIONAL-2",
  "COMPUTATIONAL-5",
]);
const REFUSED_CLAUSES: Readonly<Record<string, string>> = {
  SIGN: "SIGN SEPARATE/LEADING is not supported (the sign is overpunched on the last digit, or use COMP-3)",
  SYNC: "SYNC adds slack bytes whose placement depends on the compiler: remove it",
  SYNCHRONIZED: "SYNCHRONIZED adds slack bytes whose placement depends on the compiler: remove it",
  JUST: "JUSTIFIED is not supported (ESS left-justifies X items)",
  JUSTIFIED: "JUSTIFIED is not supported (ESS left-justifies X items)",
  BLANK: "BLANK WHEN ZERO is not supported",
};

/** Reads every level-01 record of a copybook. */
export function parseCopybook(text: string, file: string): CopybookRecord[] {
  const entries = sentences(tokens(text), file)
    .map((sentence) => entry(sentence, file))
    .filter((e): e is Entry => e !== undefined);
  const records: CopybookRecord[] = [];
  const roots = tree(entries, file);
  for (const root of roots) {
    const fields: CopybookField[] = [];
    const length = place(root, "", 0, fields, file, undefined);
    records.push({ name: root.name, line: root.line, fields, length });
  }
  if (records.length === 0)
    throw new CopybookError({ file, line: 1, reason: "no record: a copybook needs a level 01 (or 05…) item" });
  return records;
}

/** Code between the comments: fixed format (sequence area, indicator column 7) or free format. */
function tokens(text: string): Token[] {
  const out: Token[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    let code = raw.replace(/\t/g, "    ");
    const fixed = /^[0-9 ]{6}[ *\-/dD]/.test(code) && code.length > 6;
    if (fixed) {
      const indicator = code[6];
      if (indicator === "*" || indicator === "/") return;
      code = code.slice(7, 72);
    } else if (/^\s*\*/.test(code)) {
      return;
    }
    const inline = code.indexOf("*>");
    if (inline >= 0) code = code.slice(0, inline);
    for (const match of code.matchAll(/[Xx]?"[^"]*"|[Xx]?'[^']*'|\S+/g)) out.push({ text: match[0], line });
  });
  return out;
}

/** Splits the tokens at separator periods (a period followed by a space or the end of the line). */
function sentences(all: readonly Token[], file: string): Token[][] {
  const result: Token[][] = [];
  let current: Token[] = [];
  for (const token of all) {
    const quoted = /^[Xx]?["']/.test(token.text);
    const ends = !quoted ? token.text.endsWith(".") : false;
    const text = ends ? token.text.slice(0, -1) : token.text;
    if (quoted && /["']\.$/.test(token.text)) {
      current.push({ text: token.text.slice(0, -1), line: token.line });
      result.push(current);
      current = [];
      continue;
    }
    if (text !== "") current.push({ text, line: token.line });
    if (ends) {
      result.push(current);
      current = [];
    }
  }
  if (current.length > 0) {
    const last = current[current.length - 1] as Token;
    throw new CopybookError({
      file,
      line: last.line,
      reason: `the entry ending with ${JSON.stringify(last.text)} has no period`,
    });
  }
  return result.filter((s) => s.length > 0);
}

function entry(sentence: readonly Token[], file: string): Entry | undefined {
  const first = sentence[0] as Token;
  if (!/^\d{1,2}$/.test(first.text)) {
    throw new CopybookError({
      file,
      line: first.line,
      reason: `expected a level number, found ${JSON.stringify(first.text)}`,
    });
  }
  const level = Number(first.text);
  if (level === 88) return undefined; // condition names describe values, not bytes
  if (level === 66) throw new CopybookError({ file, line: first.line, reason: "level 66 (RENAMES) is not supported" });
  if (level === 77)
    throw new CopybookError({ file, line: first.line, reason: "level 77 is a standalone item, not part of a record" });
  if (level < 1 || level > 49)
    throw new CopybookError({ file, line: first.line, reason: `level ${level} is not 01 to 49` });
  let i = 1;
  let name = "FILLER";
  const second = sentence[1];
  if (second && !isClauseWord(second.text)) {
    name = second.text.toUpperCase();
    i = 2;
  }
  let occurs = 1;
  let picture: string | undefined;
  let usage: string | undefined;
  let value: Token | undefined;
  while (i < sentence.length) {
    const token = sentence[i] as Token;
    const word = token.text.toUpperCase();
    const next = () => {
      i++;
      const t = sentence[i];
      if (!t) throw new CopybookError({ file, line: token.line, reason: `${word} needs a value` });
      return t;
    };
    if (word === "REDEFINES") {
      const target = sentence[i + 1]?.text ?? "";
      throw new CopybookError({
        file,
        line: token.line,
        reason: `${name} REDEFINES ${target}: a redefined area has two layouts and ESS writes one; describe the layout ESS should write without REDEFINES`,
      });
    }
    if (word === "RENAMES") throw new CopybookError({ file, line: token.line, reason: "RENAMES is not supported" });
    const refused = REFUSED_CLAUSES[word];
    if (refused) throw new CopybookError({ file, line: token.line, reason: `${name}: ${refused}` });
    if (word === "PIC" || word === "PICTURE") {
      let t = next();
      if (t.text.toUpperCase() === "IS") t = next();
      picture = t.text.toUpperCase();
    } else if (word === "USAGE") {
      let t = next();
      if (t.text.toUpperCase() === "IS") t = next();
      usage = usageWord(t, name, file);
    } else if (USAGE_WORDS.has(word) || FLOAT_OR_NATIVE.has(word)) {
      usage = usageWord(token, name, file);
    } else if (word === "OCCURS") {
      const count = next();
      if (!/^\d+$/.test(count.text) || Number(count.text) < 1) {
        throw new CopybookError({
          file,
          line: count.line,
          reason: `${name}: OCCURS needs a fixed count, found ${count.text}`,
        });
      }
      occurs = Number(count.text);
      const after = sentence[i + 1]?.text.toUpperCase();
      if (after === "TO" || sentence.some((t) => t.text.toUpperCase() === "DEPENDING")) {
        throw new CopybookError({
          file,
          line: count.line,
          reason: `${name}: OCCURS DEPENDING ON makes records of varying length; ESS writes fixed-length records`,
        });
      }
      if (after === "TIMES") i++;
    } else if (word === "INDEXED") {
      // OCCURS … INDEXED BY names an index for the program; it takes no bytes.
      if (sentence[i + 1]?.text.toUpperCase() === "BY") i++;
      i++;
    } else if (word === "ASCENDING" || word === "DESCENDING") {
      i++;
      if (sentence[i]?.text.toUpperCase() === "KEY") i++;
      if (sentence[i]?.text.toUpperCase() === "IS") i++;
    } else if (word === "VALUE" || word === "VALUES") {
      let t = next();
      if (t.text.toUpperCase() === "IS" || t.text.toUpperCase() === "ARE") t = next();
      value = t;
    } else {
      throw new CopybookError({ file, line: token.line, reason: `${name}: unexpected ${JSON.stringify(token.text)}` });
    }
    i++;
  }
  return {
    level,
    name,
    line: first.line,
    occurs,
    ...(picture !== undefined ? { picture } : {}),
    ...(usage !== undefined ? { usage } : {}),
    ...(value !== undefined ? { value } : {}),
  };
}

function isClauseWord(text: string): boolean {
  const word = text.toUpperCase();
  return (
    ["PIC", "PICTURE", "USAGE", "OCCURS", "VALUE", "VALUES", "REDEFINES"].includes(word) ||
    USAGE_WORDS.has(word) ||
    FLOAT_OR_NATIVE.has(word) ||
    word in REFUSED_CLAUSES
  );
}

function usageWord(token: Token, name: string, file: string): string {
  const word = token.text.toUpperCase();
  if (FLOAT_OR_NATIVE.has(word)) {
    throw new CopybookError({
      file,
      line: token.line,
      reason: `${name}: ${word} is not supported (use COMP-3, COMP or DISPLAY)`,
    });
  }
  if (!USAGE_WORDS.has(word))
    throw new CopybookError({ file, line: token.line, reason: `${name}: unknown usage ${word}` });
  return word;
}

/** Nests entries by level number: an item belongs to the nearest item above it with a lower level. */
function tree(entries: readonly Entry[], file: string): Node[] {
  const roots: Node[] = [];
  const stack: Node[] = [];
  for (const e of entries) {
    const node: Node = { ...e, children: [] };
    while (stack.length > 0 && (stack[stack.length - 1] as Node).level >= e.level) stack.pop();
    const parent = stack[stack.length - 1];
    if (parent) {
      if (parent.picture !== undefined) {
        throw new CopybookError({
          file,
          line: e.line,
          reason: `${e.name} is under ${parent.name}, which has a PICTURE (an elementary item has no subordinates)`,
        });
      }
      parent.children.push(node);
    } else {
      roots.push(node);
    }
    stack.push(node);
  }
  return roots;
}

/** Lays out a node's elementary items from `offset`; returns the offset after it. */
function place(
  node: Node,
  suffix: string,
  offset: number,
  out: CopybookField[],
  file: string,
  groupUsage: string | undefined,
): number {
  const usage = node.usage ?? groupUsage;
  let at = offset;
  for (let n = 1; n <= node.occurs; n++) {
    const occurrence = node.occurs > 1 ? `${suffix}-${n}` : suffix;
    if (node.children.length > 0) {
      if (node.picture !== undefined)
        throw new CopybookError({ file, line: node.line, reason: `${node.name}: a group has no PICTURE` });
      for (const child of node.children) at = place(child, occurrence, at, out, file, usage);
      continue;
    }
    if (node.picture === undefined) {
      throw new CopybookError({
        file,
        line: node.line,
        reason: `${node.name} has neither a PICTURE nor subordinate items`,
      });
    }
    const pictureText = usage && usage !== "DISPLAY" ? `${node.picture} ${usage}` : node.picture;
    let parsed: Picture;
    try {
      parsed = parsePicture(pictureText);
    } catch (error) {
      if (!(error instanceof PictureSyntaxError)) throw error;
      throw new CopybookError({ file, line: node.line, reason: `${node.name}: ${error.message}` });
    }
    const width = pictureByteLength(parsed);
    const filler = node.name === "FILLER";
    out.push({
      name: filler ? "FILLER" : `${node.name}${occurrence}`,
      filler,
      picture: pictureText,
      parsed,
      offset: at,
      width,
      ...literal(node.value, file),
      line: node.line,
    });
    at += width;
  }
  return at;
}

function literal(token: Token | undefined, file: string): { value?: string; hexValue?: Buffer } {
  if (!token) return {};
  const text = token.text;
  const hex = /^[Xx](["'])([0-9A-Fa-f]*)\1$/.exec(text);
  if (hex) {
    if ((hex[2] as string).length % 2 !== 0)
      throw new CopybookError({ file, line: token.line, reason: `odd hex literal ${text}` });
    return { hexValue: Buffer.from(hex[2] as string, "hex") };
  }
  const quoted = /^(["'])(.*)\1$/.exec(text);
  if (quoted) return { value: quoted[2] as string };
  const word = text.toUpperCase();
  if (["SPACE", "SPACES"].includes(word)) return { value: "" };
  if (["ZERO", "ZEROS", "ZEROES"].includes(word)) return { value: "0" };
  if (/^[+-]?\d+(\.\d+)?$/.test(text)) return { value: text };
  throw new CopybookError({
    file,
    line: token.line,
    reason: `VALUE ${text} is not supported (a quoted literal, a number, SPACES or ZEROS)`,
  });
}
