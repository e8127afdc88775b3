// IANA time zones for the mapping engine: validated names, cached UTC offsets, and instants broken down into local wall times.
import { IANAZone } from "luxon";

/** An IANA zone name that the runtime's time zone database does not know. */
export class TimezoneError extends Error {
  override readonly name = "TimezoneError";
  constructor(readonly timezone: string) {
    super(`unknown time zone ${JSON.stringify(timezone)} (expected an IANA name such as America/New_York or UTC)`);
  }
}

/** A broken-down local time. The offset and zone abbreviation are only needed by %z, %Z and %s. */
export interface WallTime {
  readonly year: number;
  /** 1..12 */
  readonly month: number;
  /** 1..31 */
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  /** 0..999999 */
  readonly microsecond: number;
  /** Minutes east of UTC; undefined for a wall time that belongs to no zone. */
  readonly offsetMinutes?: number;
  /** Zone abbreviation for %Z (e.g. EDT); falls back to the offset text. */
  readonly zoneAbbreviation?: string;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's days_from_civil; Date.UTC misreads years 0..99). */
export function epochDay(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/** "+hhmm" / "-hhmm", or "" for a wall time without a zone. */
export function formatOffset(minutes: number | undefined): string {
  if (minutes === undefined) return "";
  const sign = minutes < 0 ? "-" : "+";
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}${String(abs % 60).padStart(2, "0")}`;
}

const DAY_MS = 86_400_000;
const QUARTER_HOUR_MS = 900_000;

/** A validated IANA zone with a cache of its UTC offsets (offset lookups go through Intl and are slow). */
export class TimeZone {
  private readonly zone: IANAZone | undefined;
  private readonly offsets = new Map<number, number>();

  constructor(readonly name: string) {
    if (name === "UTC" || name === "Etc/UTC") {
      this.zone = undefined;
    } else {
      if (!IANAZone.isValidZone(name)) throw new TimezoneError(name);
      this.zone = IANAZone.create(name);
    }
  }

  /** UTC offset in minutes at an instant (milliseconds since the epoch). */
  offsetAt(epochMs: number): number {
    if (!this.zone) return 0;
    // Cached per UTC day when the day starts and ends on the same offset (zones never change
    // twice in a day and back); days with a change are cached per quarter hour the same way,
    // since offsets change on quarter-hour boundaries.
    const day = Math.floor(epochMs / DAY_MS);
    const daily = this.offsets.get(day);
    if (daily !== undefined) return daily;
    const quarter = -1 - Math.floor(epochMs / QUARTER_HOUR_MS);
    const quarterly = this.offsets.get(quarter);
    if (quarterly !== undefined) return quarterly;
    if (this.offsets.size > 100_000) this.offsets.clear();
    const start = this.zone.offset(day * DAY_MS);
    if (start === this.zone.offset(day * DAY_MS + DAY_MS - 1)) {
      this.offsets.set(day, start);
      return start;
    }
    const quarterStart = (-1 - quarter) * QUARTER_HOUR_MS;
    const first = this.zone.offset(quarterStart);
    if (first !== this.zone.offset(quarterStart + QUARTER_HOUR_MS - 1)) return this.zone.offset(epochMs);
    this.offsets.set(quarter, first);
    return first;
  }

  /** Abbreviation such as EST or EDT at an instant; the offset text when the zone has none. */
  abbreviationAt(epochMs: number): string {
    if (!this.zone) return "UTC";
    return this.zone.offsetName(epochMs, { format: "short", locale: "en-US" }) ?? formatOffset(this.offsetAt(epochMs));
  }

  /** UTC offset in minutes for a wall time read in this zone (the earlier one when the clock repeats). */
  offsetForWallTime(time: WallTime): number {
    if (!this.zone) return 0;
    const asUtc =
      epochDay(time.year, time.month, time.day) * 86_400_000 +
      ((time.hour * 60 + time.minute) * 60 + time.second) * 1000;
    const guess = this.offsetAt(asUtc);
    const second = this.offsetAt(asUtc - guess * 60_000);
    return this.offsetAt(asUtc - second * 60_000) === second ? second : guess;
  }
}

const zones = new Map<string, TimeZone>();

/** The shared TimeZone of a name; throws TimezoneError for an unknown name. */
export function timeZone(name: string): TimeZone {
  let zone = zones.get(name);
  if (!zone) {
    zone = new TimeZone(name);
    zones.set(name, zone);
  }
  return zone;
}

/** The wall time of an instant in a zone; `withZone` also fills the offset and abbreviation. */
export function wallTimeOf(epochMs: number, zone: TimeZone, withZone: boolean, microsecond?: number): WallTime {
  const offset = zone.offsetAt(epochMs);
  const local = new Date(epochMs + offset * 60_000);
  const time: WallTime = {
    year: local.getUTCFullYear(),
    month: local.getUTCMonth() + 1,
    day: local.getUTCDate(),
    hour: local.getUTCHours(),
    minute: local.getUTCMinutes(),
    second: local.getUTCSeconds(),
    microsecond: microsecond ?? local.getUTCMilliseconds() * 1000,
  };
  if (!withZone) return time;
  return { ...time, offsetMinutes: offset, zoneAbbreviation: zone.abbreviationAt(epochMs) };
}
