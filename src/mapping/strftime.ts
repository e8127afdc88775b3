// strftime patterns (C locale) compiled once into fast formatters of wall-clock times, for record fields and drop file names.
import { epochDay, formatOffset, timeZone, type WallTime, wallTimeOf } from "./time-zone.js";

/** A pattern that uses a directive this formatter does not know, or ends in a lone '%'. */
export class StrftimeError extends Error {
  override readonly name = "StrftimeError";
  readonly pattern: string;
  /** Offset of the offending '%' in the pattern. */
  readonly position: number;
  readonly directive: string;
  constructor(
    message: string,
    {
      pattern,
      position,
      directive,
    }: { readonly pattern: string; readonly position: number; readonly directive: string },
  ) {
    super(message);
    this.pattern = pattern;
    this.position = position;
    this.directive = directive;
  }
}

export interface StrftimeFormatter {
  (time: WallTime): string;
  /** True when the pattern prints the UTC offset, the zone or the epoch (%z %Z %s). */
  readonly needsZone: boolean;
  /**
   * Characters the directives always print (years 0-9999), or undefined when one varies
   * (%A %B %s %Z): with the literal text, the output's fixed width in a record.
   */
  readonly directiveWidth: number | undefined;
  /** The pattern's literal text, all of it, for measuring in the target's encoding. */
  readonly literalText: string;
}

const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

type Part = (t: WallTime) => string;

function pad2(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

function pad(n: number, width: number, fill = "0"): string {
  const sign = n < 0 ? "-" : "";
  return sign + String(Math.abs(n)).padStart(width, fill);
}

/** 0 = Sunday … 6 = Saturday. */
function weekday(t: WallTime): number {
  return (((epochDay(t.year, t.month, t.day) + 4) % 7) + 7) % 7;
}

/** 1..366 */
function dayOfYear(t: WallTime): number {
  return epochDay(t.year, t.month, t.day) - epochDay(t.year, 1, 1) + 1;
}

/** ISO 8601 week-numbering year and week (weeks start Monday; week 1 holds the first Thursday). */
function isoWeek(t: WallTime): { year: number; week: number } {
  const isoDay = weekday(t) || 7;
  const thursday = epochDay(t.year, t.month, t.day) + 4 - isoDay;
  const thursdayDate = new Date(thursday * 86_400_000);
  const year = thursdayDate.getUTCFullYear();
  const week = Math.floor((thursday - epochDay(year, 1, 1)) / 7) + 1;
  return { year, week };
}

function hour12(t: WallTime): number {
  return t.hour % 12 === 0 ? 12 : t.hour % 12;
}

const DIRECTIVES: Readonly<Record<string, Part>> = {
  a: (t) => WEEKDAYS[weekday(t)]!.slice(0, 3),
  A: (t) => WEEKDAYS[weekday(t)]!,
  b: (t) => MONTHS[t.month - 1]!.slice(0, 3),
  h: (t) => MONTHS[t.month - 1]!.slice(0, 3),
  B: (t) => MONTHS[t.month - 1]!,
  C: (t) => pad2(Math.floor(t.year / 100)),
  d: (t) => pad2(t.day),
  e: (t) => pad(t.day, 2, " "),
  f: (t) => pad(t.microsecond, 6),
  G: (t) => pad(isoWeek(t).year, 4),
  g: (t) => pad2(((isoWeek(t).year % 100) + 100) % 100),
  H: (t) => pad2(t.hour),
  I: (t) => pad2(hour12(t)),
  j: (t) => pad(dayOfYear(t), 3),
  k: (t) => pad(t.hour, 2, " "),
  l: (t) => pad(hour12(t), 2, " "),
  m: (t) => pad2(t.month),
  M: (t) => pad2(t.minute),
  n: () => "\n",
  p: (t) => (t.hour < 12 ? "AM" : "PM"),
  P: (t) => (t.hour < 12 ? "am" : "pm"),
  s: (t) =>
    String(
      epochDay(t.year, t.month, t.day) * 86_400 +
        t.hour * 3600 +
        t.minute * 60 +
        t.second -
        (t.offsetMinutes ?? 0) * 60,
    ),
  S: (t) => pad2(t.second),
  t: () => "\t",
  u: (t) => String(weekday(t) || 7),
  U: (t) => pad2(Math.floor((dayOfYear(t) - 1 + 7 - weekday(t)) / 7)),
  V: (t) => pad2(isoWeek(t).week),
  w: (t) => String(weekday(t)),
  W: (t) => pad2(Math.floor((dayOfYear(t) - 1 + 7 - ((weekday(t) + 6) % 7)) / 7)),
  y: (t) => pad2(((t.year % 100) + 100) % 100),
  Y: (t) => pad(t.year, 4),
  z: (t) => formatOffset(t.offsetMinutes),
  Z: (t) => t.zoneAbbreviation ?? formatOffset(t.offsetMinutes),
  "%": () => "%",
};

/** Composite directives, expanded before compilation as glibc defines them in the C locale. */
const COMPOSITES: Readonly<Record<string, string>> = {
  c: "%a %b %e %H:%M:%S %Y",
  D: "%m/%d/%y",
  F: "%Y-%m-%d",
  r: "%I:%M:%S %p",
  R: "%H:%M",
  T: "%H:%M:%S",
  x: "%m/%d/%y",
  X: "%H:%M:%S",
};

const ZONE_DIRECTIVES = new Set(["z", "Z", "s"]);

/** Output length of each fixed-length directive; the others (%A %B %s %Z) vary. */
const DIRECTIVE_WIDTHS: Readonly<Record<string, number>> = {
  a: 3,
  b: 3,
  h: 3,
  C: 2,
  d: 2,
  e: 2,
  f: 6,
  G: 4,
  g: 2,
  H: 2,
  I: 2,
  j: 3,
  k: 2,
  l: 2,
  m: 2,
  M: 2,
  p: 2,
  P: 2,
  S: 2,
  u: 1,
  U: 2,
  V: 2,
  w: 1,
  W: 2,
  y: 2,
  Y: 4,
  z: 5,
};

/** The directives a pattern may use, for error messages and documentation. */
export const STRFTIME_DIRECTIVES: readonly string[] = [...Object.keys(DIRECTIVES), ...Object.keys(COMPOSITES)]
  .map((d) => `%${d}`)
  .sort();

/** Compiles a pattern once; throws StrftimeError for an unknown directive. */
export function compileStrftime(pattern: string): StrftimeFormatter {
  const parts: Part[] = [];
  let needsZone = false;
  let literal = "";
  let literalText = "";
  let directiveWidth: number | undefined = 0;
  const flush = (): void => {
    if (literal) {
      const text = literal;
      parts.push(() => text);
      literal = "";
    }
  };
  const walk = (text: string, origin: number | undefined): void => {
    for (let i = 0; i < text.length; i++) {
      const ch = text[i]!;
      if (ch !== "%") {
        literal += ch;
        literalText += ch;
        continue;
      }
      const position = origin ?? i;
      const directive = text[i + 1];
      if (directive === undefined) {
        throw new StrftimeError(`strftime pattern ${JSON.stringify(pattern)} ends with a lone %`, {
          pattern,
          position,
          directive: "%",
        });
      }
      i++;
      const composite = COMPOSITES[directive];
      if (composite !== undefined) {
        walk(composite, position);
        continue;
      }
      const part = DIRECTIVES[directive];
      if (part === undefined) {
        throw new StrftimeError(
          `unknown strftime directive %${directive} at position ${position} of ${JSON.stringify(pattern)}`,
          { pattern, position, directive: `%${directive}` },
        );
      }
      if (directive === "%" || directive === "n" || directive === "t") {
        literal += part({} as WallTime);
        literalText += part({} as WallTime);
        continue;
      }
      if (ZONE_DIRECTIVES.has(directive)) needsZone = true;
      const width = DIRECTIVE_WIDTHS[directive];
      directiveWidth = width === undefined || directiveWidth === undefined ? undefined : directiveWidth + width;
      flush();
      parts.push(part);
    }
  };
  walk(pattern, undefined);
  flush();
  const format = (time: WallTime): string => {
    let out = "";
    for (const part of parts) out += part(time);
    return out;
  };
  return Object.assign(format, { needsZone, directiveWidth, literalText });
}

/**
 * Formats an instant in an IANA time zone (C-locale names, e.g. "%Y%m%d" → "20250412").
 * Throws StrftimeError for an unknown directive and TimezoneError for an unknown zone.
 */
export function formatStrftime(instant: Date, pattern: string, timezone: string): string {
  const formatter = compileStrftime(pattern);
  return formatter(wallTimeOf(instant.getTime(), timeZone(timezone), formatter.needsZone));
}
