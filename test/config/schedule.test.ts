import { describe, expect, it } from "vitest";
import { isValidTimezone, parseSchedule } from "../../src/config/schedule.js";

describe("delivery windows", () => {
  it.each([
    ["Mon-Fri 06:00-22:00 America/New_York", [1, 2, 3, 4, 5], 360, 1320, "America/New_York"],
    ["Sat,Sun 00:00-24:00 UTC", [6, 7], 0, 1440, "UTC"],
    ["Fri-Mon 08:30-17:45 Europe/Paris", [1, 5, 6, 7], 510, 1065, "Europe/Paris"],
    ["daily 01:00-02:00 Asia/Tokyo", [1, 2, 3, 4, 5, 6, 7], 60, 120, "Asia/Tokyo"],
    ["monday,Wednesday 09:00-10:00 UTC", [1, 3], 540, 600, "UTC"],
    ["Mon-Wed,Fri 09:00-10:00 UTC", [1, 2, 3, 5], 540, 600, "UTC"],
  ])("%s opens on days %j from minute %d to %d in %s", (text, days, start, end, timezone) => {
    const parsed = parseSchedule(text);
    expect(parsed).toEqual({
      ok: true,
      window: { kind: "window", text, days, startMinute: start, endMinute: end, timezone },
    });
  });

  it.each([
    ["Mon-Fri 06:00-22:00", "needs days, a time range and a time zone"],
    ["Mon-Fry 06:00-22:00 UTC", "days"],
    ["Mon-Fri 6:00-22:00 UTC", "is not HH:MM-HH:MM"],
    ["Mon-Fri 22:00-06:00 UTC", "ends before it starts"],
    ["Mon-Fri 06:00-06:00 UTC", "ends before it starts"],
    ["Mon-Fri 06:00-25:00 UTC", "outside 00:00-24:00"],
    ["Mon-Fri 06:60-22:00 UTC", "outside 00:00-24:00"],
    ["Mon-Fri 06:00-22:00 America/New_Yrok", 'unknown time zone "America/New_Yrok"'],
    ["Mon-Tue-Wed 06:00-22:00 UTC", "days"],
  ])("%j is refused: %s", (text, reason) => {
    const parsed = parseSchedule(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toContain(reason);
  });

  it.each([
    ["America/New_York", true],
    ["UTC", true],
    ["Europe/London", true],
    ["America/New_Yrok", false],
    ["EST5EDT-ish", false],
    ["", false],
  ])("time zone %j is valid: %s", (name, valid) => {
    expect(isValidTimezone(name)).toBe(valid);
  });
});
