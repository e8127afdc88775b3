// Rewrites PostgreSQL's ISO-style timestamp text (DateStyle ISO) into the ISO 8601 forms ESS
// carries: 'T' between date and time, timestamptz shifted to UTC with a 'Z'. Fractional digits
// are kept exactly as printed (PostgreSQL drops trailing zeros); BC years keep PostgreSQL's ' BC'
// suffix at the end, as PgDate does.
import { ValueConversionError } from "./decode-error.js";
import { PgTypeOid } from "./pg-type-oids.js";

const SECONDS_PER_DAY = 86_400;

/** '2024-01-02 03:04:05.5' -> '2024-01-02T03:04:05.5'; 'infinity' and '-infinity' unchanged. */
export function timestampToIso(text: string): string {
  if (text === "infinity" || text === "-infinity") return text;
  const space = text.indexOf(" ");
  if (space < 10 || text.charCodeAt(space + 3) !== 0x3a /* : */) {
    throw new ValueConversionError({
      typeName: "timestamp",
      typeOid: PgTypeOid.timestamp,
      reason: "not an ISO timestamp",
      position: Math.max(space, 0),
    });
  }
  return `${text.slice(0, space)}T${text.slice(space + 1)}`;
}

/** '2024-01-02 08:34:05.123456+05:30' -> '2024-01-02T03:04:05.123456Z'; 'infinity' and '-infinity' unchanged. */
export function timestamptzToUtcIso(text: string): string {
  if (text === "infinity" || text === "-infinity") return text;
  const t = parseTimestamptz(text);
  if (t.offsetSeconds === 0) {
    // The common case under TimeZone=UTC: only the separators change.
    return `${text.slice(0, t.dateEnd)}T${text.slice(t.dateEnd + 1, t.fractionEnd)}Z${t.bc ? " BC" : ""}`;
  }
  const utc = civilFromSeconds(secondsOf(t) - t.offsetSeconds);
  const bc = utc.year <= 0;
  const year = bc ? 1 - utc.year : utc.year;
  return (
    `${pad(year, 4)}-${pad(utc.month, 2)}-${pad(utc.day, 2)}T` +
    `${pad(utc.hour, 2)}:${pad(utc.minute, 2)}:${pad(utc.second, 2)}${t.fraction}Z${bc ? " BC" : ""}`
  );
}

/** The instant of a timestamptz text, to the millisecond (microseconds are truncated, as for pgoutput times). */
export function timestamptzToDate(text: string): Date {
  const t = parseTimestamptz(text);
  const millis = t.fraction.length > 1 ? Number(t.fraction.slice(1, 4).padEnd(3, "0")) : 0;
  return new Date((secondsOf(t) - t.offsetSeconds) * 1000 + millis);
}

interface TimestamptzParts {
  /** Astronomical year: 1 BC is 0. */
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  /** '' or '.' followed by the digits as printed. */
  readonly fraction: string;
  readonly offsetSeconds: number;
  readonly bc: boolean;
  /** Index of the space between date and time. */
  readonly dateEnd: number;
  /** Index just past the fraction (where the offset starts). */
  readonly fractionEnd: number;
}

function parseTimestamptz(text: string): TimestamptzParts {
  const dash = text.indexOf("-", 1);
  if (dash < 4) bad(0);
  const dateEnd = dash + 6;
  if (text.charCodeAt(dash + 3) !== 0x2d || text.charCodeAt(dateEnd) !== 0x20) bad(dash);
  const yearDigits = digits(text, 0, dash);
  const month = digits(text, dash + 1, dash + 3);
  const day = digits(text, dash + 4, dateEnd);
  const h = dateEnd + 1;
  if (text.charCodeAt(h + 2) !== 0x3a || text.charCodeAt(h + 5) !== 0x3a) bad(h);
  const hour = digits(text, h, h + 2);
  const minute = digits(text, h + 3, h + 5);
  const second = digits(text, h + 6, h + 8);
  let p = h + 8;
  if (text.charCodeAt(p) === 0x2e /* . */) {
    p += 1;
    while (isDigit(text.charCodeAt(p))) p += 1;
  }
  const fractionEnd = p;
  const sign = text.charCodeAt(p);
  if (sign !== 0x2b && sign !== 0x2d) bad(p);
  let offset = digits(text, p + 1, p + 3) * 3600;
  p += 3;
  if (text.charCodeAt(p) === 0x3a) {
    offset += digits(text, p + 1, p + 3) * 60;
    p += 3;
    if (text.charCodeAt(p) === 0x3a) {
      offset += digits(text, p + 1, p + 3);
      p += 3;
    }
  }
  let bc = false;
  if (p < text.length) {
    if (text.slice(p) !== " BC") bad(p);
    bc = true;
  }
  if (Number.isNaN(yearDigits + month + day + hour + minute + second + offset)) bad(0);
  return {
    year: bc ? 1 - yearDigits : yearDigits,
    month,
    day,
    hour,
    minute,
    second,
    fraction: text.slice(h + 8, fractionEnd),
    offsetSeconds: sign === 0x2d ? -offset : offset,
    bc,
    dateEnd,
    fractionEnd,
  };
}

function bad(at: number): never {
  throw new ValueConversionError({
    typeName: "timestamptz",
    typeOid: PgTypeOid.timestamptz,
    reason: "not an ISO timestamp with time zone",
    position: at,
  });
}

function secondsOf(t: TimestamptzParts): number {
  return daysFromCivil(t.year, t.month, t.day) * SECONDS_PER_DAY + t.hour * 3600 + t.minute * 60 + t.second;
}

// Proleptic Gregorian day numbers relative to 1970-01-01, valid for any astronomical year
// (H. Hinnant's days_from_civil / civil_from_days).
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function civilFromSeconds(total: number): {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
} {
  const days = Math.floor(total / SECONDS_PER_DAY);
  let rest = total - days * SECONDS_PER_DAY;
  const hour = Math.floor(rest / 3600);
  rest -= hour * 3600;
  const minute = Math.floor(rest / 60);
  const second = rest - minute * 60;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return { year, month, day, hour, minute, second };
}

function digits(text: string, start: number, end: number): number {
  if (end <= start) return Number.NaN;
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (!isDigit(c)) return Number.NaN;
    n = n * 10 + (c - 0x30);
  }
  return n;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}
