import { describe, expect, it } from "vitest";
import { parseSchedule } from "../../src/config/index.js";
import { cronSchedule, dailySchedule } from "../../src/config/schedule-clock.js";
import type { ScheduleClock, ScheduleWindow } from "../../src/config/types.js";
import { isWindowOpen, lastTick, nextTick, ScheduleGate } from "../../src/delivery/schedule.js";

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

describe("schedules that drop on a clock", () => {
  const clock = (times: string[], days?: string, zone = "America/New_York"): ScheduleClock => {
    const parsed = dailySchedule(times, days, zone);
    if (!parsed.ok) throw new Error(parsed.reason);
    return parsed.value;
  };
  const at = (iso: string) => new Date(iso);

  it("every: 60s lets one batch through per interval", () => {
    const gate = new ScheduleGate({ kind: "every", text: "every 60s", everyMs: 60_000 });
    expect(gate.isOpen(at("2025-04-14T10:00:00Z"))).toBe(true);
    gate.batchClaimed(at("2025-04-14T10:00:00Z"));
    expect(gate.isOpen(at("2025-04-14T10:00:59.999Z"))).toBe(false);
    expect(gate.isOpen(at("2025-04-14T10:01:00Z"))).toBe(true);
  });

  it("at 09:00 opens at the tick, collects everything due, then waits for the next day", () => {
    const gate = new ScheduleGate(clock(["09:00"]));
    // Started after the tick it did not serve: it serves it at once.
    expect(gate.isOpen(at("2025-04-14T14:00:00Z"))).toBe(true);
    gate.batchClaimed(at("2025-04-14T14:00:00Z"));
    expect(gate.isOpen(at("2025-04-14T14:00:01Z"))).toBe(true);
    gate.drained(at("2025-04-14T14:00:02Z"));
    expect(gate.isOpen(at("2025-04-14T20:00:00Z"))).toBe(false);
    expect(gate.isOpen(at("2025-04-15T12:59:59Z"))).toBe(false);
    // 09:00 EDT is 13:00 UTC.
    expect(gate.isOpen(at("2025-04-15T13:00:00Z"))).toBe(true);
  });

  it("days: Mon-Fri skips the weekend", () => {
    const schedule = clock(["09:00"], "Mon-Fri");
    expect(schedule.crons).toEqual(["0 9 * * 1,2,3,4,5"]);
    // Friday 2025-04-18 09:00 EDT, then Monday 2025-04-21 09:00 EDT.
    expect(lastTick(schedule, at("2025-04-20T15:00:00Z"))?.toISOString()).toBe("2025-04-18T13:00:00.000Z");
    expect(nextTick(schedule, at("2025-04-18T13:00:00Z"))?.toISOString()).toBe("2025-04-21T13:00:00.000Z");
  });

  it("several times a day tick at each of them", () => {
    const schedule = clock(["09:00", "5:30 pm"]);
    expect(nextTick(schedule, at("2025-04-14T13:00:00Z"))?.toISOString()).toBe("2025-04-14T21:30:00.000Z");
  });

  it.each([
    {
      why: "09:00 keeps its wall-clock time across spring forward (EST to EDT)",
      time: "09:00",
      from: "2025-03-08T14:00:00Z",
      ticks: ["2025-03-09T13:00:00.000Z", "2025-03-10T13:00:00.000Z"],
    },
    {
      why: "09:00 keeps its wall-clock time across fall back (EDT to EST)",
      time: "09:00",
      from: "2025-11-01T13:00:00Z",
      ticks: ["2025-11-02T14:00:00.000Z", "2025-11-03T14:00:00.000Z"],
    },
    {
      why: "01:30 happens once on the night the clock falls back, though the hour repeats",
      time: "01:30",
      from: "2025-11-01T06:00:00Z",
      ticks: ["2025-11-02T05:30:00.000Z", "2025-11-03T06:30:00.000Z"],
    },
  ])("DST in America/New_York: $why", ({ time, from, ticks }) => {
    const schedule = clock([time]);
    const first = nextTick(schedule, at(from));
    const second = first ? nextTick(schedule, first) : undefined;
    expect([first?.toISOString(), second?.toISOString()]).toEqual(ticks);
  });

  it("02:30 on the night the clock springs forward (a time that does not exist) still drops once that day", () => {
    const schedule = clock(["02:30"]);
    const tick = nextTick(schedule, at("2025-03-09T05:00:00Z"));
    expect(tick).toBeDefined();
    // The drop happens on 9 March local time, not skipped to the 10th.
    expect(tick && tick < at("2025-03-10T05:00:00Z")).toBe(true);
    const after = tick ? nextTick(schedule, tick) : undefined;
    expect(after?.toISOString()).toBe("2025-03-10T06:30:00.000Z");
  });

  it("a cron expression is read in the schedule's zone", () => {
    const parsed = cronSchedule("15 6 * * 1", "America/New_York");
    if (!parsed.ok) throw new Error(parsed.reason);
    expect(nextTick(parsed.value, at("2025-04-14T00:00:00Z"))?.toISOString()).toBe("2025-04-14T10:15:00.000Z");
    expect(cronSchedule("61 6 * * 1", "UTC").ok).toBe(false);
    expect(cronSchedule("0 9 * *", "UTC").ok).toBe(false);
  });
});
