// When a connector's schedule lets it deliver: inside a window, once per interval, or after a clock tick until drained.
import { CronExpressionParser } from "cron-parser";
import { DateTime } from "luxon";
import type { DeliverySchedule, ScheduleClock, ScheduleWindow } from "../config/types.js";

/** The window is the local time [start, end) on its days; the configuration refuses windows across midnight. */
export function isWindowOpen(window: ScheduleWindow, instant: Date): boolean {
  const local = DateTime.fromJSDate(instant, { zone: window.timezone });
  const minute = local.hour * 60 + local.minute;
  return window.days.includes(local.weekday) && minute >= window.startMinute && minute < window.endMinute;
}

/** The latest tick of a clock schedule at or before `instant`, or undefined when it never ticked. */
export function lastTick(clock: ScheduleClock, instant: Date): Date | undefined {
  let latest: Date | undefined;
  for (const cron of clock.crons) {
    // cron-parser's prev() is strictly before currentDate: ask from one millisecond later.
    const expression = CronExpressionParser.parse(cron, {
      tz: clock.timezone,
      currentDate: new Date(instant.getTime() + 1),
    });
    if (!expression.hasPrev()) continue;
    const tick = expression.prev().toDate();
    if (latest === undefined || tick > latest) latest = tick;
  }
  return latest;
}

/** The first tick strictly after `instant`. */
export function nextTick(clock: ScheduleClock, instant: Date): Date | undefined {
  let earliest: Date | undefined;
  for (const cron of clock.crons) {
    const expression = CronExpressionParser.parse(cron, { tz: clock.timezone, currentDate: instant });
    if (!expression.hasNext()) continue;
    const tick = expression.next().toDate();
    if (earliest === undefined || tick < earliest) earliest = tick;
  }
  return earliest;
}

/**
 * The schedule of one connector's worker. A window is open by the clock alone. An interval
 * lets one batch through per period. A clock schedule opens at each tick and stays open until a
 * claim finds nothing more to send, so one drop collects everything due at that time; a worker
 * that starts after a tick it did not serve (ESS was down at 09:00) serves it at once.
 */
export class ScheduleGate {
  private lastBatchAt: Date | undefined;
  private drainedAt: Date | undefined;

  constructor(private readonly schedule: DeliverySchedule | undefined) {}

  isOpen(now: Date): boolean {
    const schedule = this.schedule;
    if (schedule === undefined) return true;
    switch (schedule.kind) {
      case "window":
        return isWindowOpen(schedule, now);
      case "every":
        return this.lastBatchAt === undefined || now.getTime() - this.lastBatchAt.getTime() >= schedule.everyMs;
      case "clock": {
        const tick = lastTick(schedule, now);
        if (tick === undefined) return false;
        return this.drainedAt === undefined || tick > this.drainedAt;
      }
    }
  }

  /** A batch was claimed at `now`. */
  batchClaimed(now: Date): void {
    this.lastBatchAt = now;
  }

  /**
   * An open gate found nothing to claim: a clock schedule waits for its next tick. Returns that
   * tick when this ends a drop (the gate was open for a tick it had not drained yet).
   */
  drained(now: Date): Date | undefined {
    const schedule = this.schedule;
    const ending = schedule?.kind === "clock" && this.isOpen(now);
    this.drainedAt = now;
    return ending ? nextTick(schedule, now) : undefined;
  }
}
