import { describe, expect, it } from "vitest";
import { parseSchedule } from "../../src/config/index.js";
import type { ScheduleWindow } from "../../src/config/types.js";
import { isWindowOpen } from "../../src/delivery/schedule.js";

function window(text: string): ScheduleWindow {
  const parsed = parseSchedule(text);
  if (!parsed.ok) throw new Error(`bad schedule in test: ${parsed.reason}`);
  return parsed.window;
}

describe("delivery windows", () => {
  const spec = window("Mon-Fri 06:00-22:00 America/New_York");
  it.each([
    { at: "2025-04-14T10:00:00Z", open: true, why: "Monday 06:00 New York (EDT) is the first open minute" },
    { at: "2025-04-14T09:59:00Z", open: false, why: "Monday 05:59 New York" },
    { at: "2025-04-15T01:59:00Z", open: true, why: "Monday 21:59 New York" },
    { at: "2025-04-15T02:00:00Z", open: false, why: "Monday 22:00 New York closes" },
    { at: "2025-04-12T15:00:00Z", open: false, why: "Saturday" },
    { at: "2025-01-13T11:00:00Z", open: true, why: "Monday 06:00 New York in winter (EST)" },
    { at: "2025-01-13T10:30:00Z", open: false, why: "Monday 05:30 New York in winter" },
  ])("$why → $open", ({ at, open }) => {
    expect(isWindowOpen(spec, new Date(at))).toBe(open);
  });
});
