// Delivery windows ("Mon-Fri 06:00-22:00 America/New_York") and IANA time zone names.
import { IANAZone } from "luxon";
import type { ScheduleWindow } from "./types.js";

const DAY_NAMES = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
const FULL_DAY_NAMES = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] as const;
const TIME_RANGE = /^(\d{2}):(\d{2})-(\d{2}):(\d{2})$/;

export const SCHEDULE_EXAMPLE =
  '"<days> <HH:MM>-<HH:MM> <IANA zone>", e.g. "Mon-Fri 06:00-22:00 America/New_York", or "always"';

export type ScheduleParse =
  | { readonly ok: true; readonly window: ScheduleWindow }
  | { readonly ok: false; readonly reason: string };

export function isValidTimezone(name: string): boolean {
  return name !== "" && IANAZone.isValidZone(name);
}

/** The zone this server runs in, as an IANA name (UTC when the runtime cannot tell). */
export function serverTimezone(): string {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return zone && isValidTimezone(zone) ? zone : "UTC";
}

/** Parses a window; days may be a range (Mon-Fri, Fri-Mon), a list (Mon,Wed,Fri) or "daily". */
export function parseSchedule(text: string): ScheduleParse {
  const tokens = text.trim().split(/\s+/);
  if (tokens.length !== 3) {
    return { ok: false, reason: `schedule ${JSON.stringify(text)} needs days, a time range and a time zone` };
  }
  const [daysText = "", timesText = "", timezone = ""] = tokens;
  const days = parseDays(daysText);
  if (typeof days === "string") return { ok: false, reason: days };
  const times = TIME_RANGE.exec(timesText);
  if (!times) return { ok: false, reason: `time range ${JSON.stringify(timesText)} is not HH:MM-HH:MM` };
  const startMinute = minuteOfDay(times[1], times[2]);
  const endMinute = minuteOfDay(times[3], times[4]);
  if (startMinute === undefined || endMinute === undefined) {
    return { ok: false, reason: `time range ${JSON.stringify(timesText)} has a time outside 00:00-24:00` };
  }
  if (endMinute <= startMinute) {
    return { ok: false, reason: `time range ${JSON.stringify(timesText)} ends before it starts` };
  }
  if (!isValidTimezone(timezone)) {
    return {
      ok: false,
      reason: `unknown time zone ${JSON.stringify(timezone)} (expected an IANA name such as America/New_York)`,
    };
  }
  return { ok: true, window: { kind: "window", text, days, startMinute, endMinute, timezone } };
}

export function parseDays(text: string): number[] | string {
  const lower = text.toLowerCase();
  if (lower === "daily" || lower === "every-day") return [1, 2, 3, 4, 5, 6, 7];
  const days = new Set<number>();
  for (const part of lower.split(",")) {
    const [from, to, extra] = part.split("-");
    const first = dayNumber(from);
    const last = to === undefined ? first : dayNumber(to);
    if (first === undefined || last === undefined || extra !== undefined) {
      return `days ${JSON.stringify(text)} are not like Mon-Fri, Sat,Sun or daily`;
    }
    // A range may wrap over the weekend: Fri-Mon is Fri, Sat, Sun, Mon.
    for (let day = first; ; day = (day % 7) + 1) {
      days.add(day);
      if (day === last) break;
    }
  }
  return [...days].sort((a, b) => a - b);
}

function dayNumber(name: string | undefined): number | undefined {
  if (name === undefined) return undefined;
  const short = DAY_NAMES.indexOf(name as (typeof DAY_NAMES)[number]);
  if (short >= 0) return short + 1;
  const full = FULL_DAY_NAMES.indexOf(name as (typeof FULL_DAY_NAMES)[number]);
  return full >= 0 ? full + 1 : undefined;
}

export function minuteOfDay(hours: string | undefined, minutes: string | undefined): number | undefined {
  const h = Number(hours);
  const m = Number(minutes);
  if (m > 59 || h > 24 || (h === 24 && m !== 0)) return undefined;
  return h * 60 + m;
}
