// Schedules that drop on a clock: `every: 60s`, daily/weekly `at:` times with `days:`, or a cron expression.
import { CronExpressionParser } from "cron-parser";
import { parseDuration } from "./duration.js";
import { isValidTimezone, parseDays, parseSchedule } from "./schedule.js";
import type { DeliverySchedule, ScheduleClock, ScheduleInterval } from "./types.js";

export const CLOCK_TIME_TEXT = 'a time of day such as "09:00", "17:30" or "9am"';

const TWENTY_FOUR_HOUR = /^(\d{1,2}):(\d{2})$/;
const TWELVE_HOUR = /^(\d{1,2})(?::(\d{2}))?\s*([ap])\.?\s*m\.?$/i;

/** "09:00", "9:00", "9am", "9 a.m.", "5:30 pm" → minutes after midnight; undefined when not a time. */
export function parseClockTime(text: string): number | undefined {
  const trimmed = text.trim();
  const plain = TWENTY_FOUR_HOUR.exec(trimmed);
  if (plain) {
    const hours = Number(plain[1]);
    const minutes = Number(plain[2]);
    return hours < 24 && minutes < 60 ? hours * 60 + minutes : undefined;
  }
  const twelve = TWELVE_HOUR.exec(trimmed);
  if (!twelve) return undefined;
  const hours = Number(twelve[1]);
  const minutes = Number(twelve[2] ?? "0");
  if (hours < 1 || hours > 12 || minutes > 59) return undefined;
  const pm = twelve[3]?.toLowerCase() === "p";
  return ((hours % 12) + (pm ? 12 : 0)) * 60 + minutes;
}

/** Minutes after midnight as the canonical "HH:MM". */
export function clockText(minute: number): string {
  return `${String(Math.floor(minute / 60)).padStart(2, "0")}:${String(minute % 60).padStart(2, "0")}`;
}

export type ClockParse<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

export function intervalSchedule(text: string): ClockParse<ScheduleInterval> {
  const everyMs = parseDuration(text.trim());
  if (everyMs === undefined || everyMs <= 0) {
    return { ok: false, reason: `every ${JSON.stringify(text)} is not a duration such as 60s, 5m or 1h` };
  }
  return { ok: true, value: { kind: "every", text: `every ${text.trim()}`, everyMs } };
}

/** `at` times on `days` (default every day) in `timezone`, as the cron expressions they mean. */
export function dailySchedule(
  times: readonly string[],
  daysText: string | undefined,
  timezone: string,
): ClockParse<ScheduleClock> {
  if (times.length === 0) return { ok: false, reason: "at needs at least one time" };
  const minutes: number[] = [];
  for (const time of times) {
    const minute = parseClockTime(time);
    if (minute === undefined) return { ok: false, reason: `${JSON.stringify(time)} is not ${CLOCK_TIME_TEXT}` };
    minutes.push(minute);
  }
  const days = daysText === undefined ? [1, 2, 3, 4, 5, 6, 7] : parseDays(daysText);
  if (typeof days === "string") return { ok: false, reason: days };
  if (!isValidTimezone(timezone)) return { ok: false, reason: unknownZone(timezone) };
  // Cron counts Sunday as 0; ISO weekdays count it as 7.
  const dayField = days.length === 7 ? "*" : days.map((day) => day % 7).join(",");
  const crons = minutes.map((minute) => `${minute % 60} ${Math.floor(minute / 60)} * * ${dayField}`);
  const at = minutes.map(clockText).join(",");
  const text = `${daysText === undefined ? "daily" : daysText} at ${at} ${timezone}`;
  return { ok: true, value: { kind: "clock", text, crons, timezone } };
}

export function cronSchedule(expression: string, timezone: string): ClockParse<ScheduleClock> {
  if (!isValidTimezone(timezone)) return { ok: false, reason: unknownZone(timezone) };
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5) {
    return {
      ok: false,
      reason: `cron ${JSON.stringify(expression)} needs five fields: minute hour day-of-month month day-of-week`,
    };
  }
  try {
    CronExpressionParser.parse(expression, { tz: timezone, strict: false });
  } catch (error) {
    return { ok: false, reason: `cron ${JSON.stringify(expression)}: ${(error as Error).message}` };
  }
  const text = `cron ${fields.join(" ")} ${timezone}`;
  return { ok: true, value: { kind: "clock", text, crons: [fields.join(" ")], timezone } };
}

function unknownZone(timezone: string): string {
  return `unknown time zone ${JSON.stringify(timezone)} (expected an IANA name such as America/New_York)`;
}

const EVERY_TEXT = /^every\s+(\d+(?:\.\d+)?\s*(?:ms|s|m|h|d))$/i;
const AT_TEXT = /^(?:(.+?)\s+)?at\s+(.+?)(?:\s+([A-Za-z_]+\/[A-Za-z_/+-]+|UTC))?$/i;
const DAY_WORDS: Readonly<Record<string, string | undefined>> = {
  daily: undefined,
  "every day": undefined,
  "every morning": undefined,
  "every evening": undefined,
  "each day": undefined,
  weekdays: "Mon-Fri",
  "every weekday": "Mon-Fri",
  weekends: "Sat,Sun",
};

/** A schedule written as text, and the canonical keys it stands for. */
export interface TextSchedule {
  readonly schedule: DeliverySchedule;
  /** The canonical form as YAML text, e.g. `{ every: 60s }`. */
  readonly canonical: string;
  /** Canonical keys for a schedule map; absent for a window, whose canonical form is its text. */
  readonly keys?: {
    readonly every?: string;
    readonly at?: readonly string[];
    readonly days?: string;
    readonly timezone?: string;
  };
}

/**
 * `every 60s`, `Mon-Fri at 09:00`, `every morning at 9 a.m.`, or a window without its zone
 * (`Mon-Fri 06:00-22:00`, which takes `zone`). Undefined when the text is none of these.
 */
export function scheduleFromText(text: string, zone: string): TextSchedule | undefined {
  const trimmed = text.trim();
  const every = EVERY_TEXT.exec(trimmed);
  if (every?.[1]) {
    const duration = every[1].replace(/\s+/g, "");
    const parsed = intervalSchedule(duration);
    return parsed.ok
      ? { schedule: parsed.value, canonical: `{ every: ${duration} }`, keys: { every: duration } }
      : undefined;
  }
  const at = AT_TEXT.exec(trimmed);
  if (at?.[2]) {
    const times = at[2].split(/\s*(?:,|\band\b)\s*/).map((t) => parseClockTime(t));
    if (times.length > 0 && times.every((t) => t !== undefined)) {
      const dayText = at[1]?.trim();
      const days =
        dayText !== undefined && Object.hasOwn(DAY_WORDS, dayText.toLowerCase())
          ? DAY_WORDS[dayText.toLowerCase()]
          : dayText;
      const timezone = at[3] ?? zone;
      const clock = (times as number[]).map(clockText);
      const parsed = dailySchedule(clock, days, timezone);
      if (!parsed.ok) return undefined;
      const atText = JSON.stringify(clock.length === 1 ? clock[0] : clock);
      const daysPart = days !== undefined ? `, days: ${days}` : "";
      return {
        schedule: parsed.value,
        canonical: `{ at: ${atText}${daysPart}, timezone: ${timezone} }`,
        keys: { at: clock, ...(days !== undefined ? { days } : {}), timezone },
      };
    }
  }
  const withZone = `${trimmed} ${zone}`;
  const window = parseSchedule(withZone);
  return window.ok ? { schedule: window.window, canonical: JSON.stringify(withZone) } : undefined;
}
