// Whether a connector's delivery window ("Mon-Fri 06:00-22:00 America/New_York") is open at an instant.
import { DateTime } from "luxon";
import type { ScheduleWindow } from "../config/types.js";

/** The window is the local time [start, end) on its days; the configuration refuses windows across midnight. */
export function isWindowOpen(window: ScheduleWindow, instant: Date): boolean {
  const local = DateTime.fromJSDate(instant, { zone: window.timezone });
  const minute = local.hour * 60 + local.minute;
  return window.days.includes(local.weekday) && minute >= window.startMinute && minute < window.endMinute;
}
