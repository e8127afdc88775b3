// Whether a connector's delivery window ("Mon-Fri 06:00-22:00 America/New_York") is open at an instant.
import { DateTime } from "luxon";
import type { ScheduleWindow } from "../config/types.js";

export function isWindowOpen(window: ScheduleWindow, instant: Date): boolean {
  const local = DateTime.fromJSDate(instant, { zone: window.timezone });
  const minute = local.hour * 60 + local.minute;
  if (window.startMinute <= window.endMinute) {
    return window.days.includes(local.weekday) && minute >= window.startMinute && minute < window.endMinute;
  }
  // A window across midnight ("Mon-Fri 22:00-06:00") belongs to the day it opened.
  if (minute >= window.startMinute) return window.days.includes(local.weekday);
  const previousDay = local.weekday === 1 ? 7 : local.weekday - 1;
  return minute < window.endMinute && window.days.includes(previousDay);
}
