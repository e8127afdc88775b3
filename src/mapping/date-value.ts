// Reads dates, timestamps and ISO strings as wall-clock times in a mapping's zone: instants are converted, zone-less times are taken as they are.
import { PgDate, PgTimestamp, PgTimestampTz } from "../change/value.js";
import { epochDay, type TimeZone, type WallTime, wallTimeOf } from "./time-zone.js";
import type { Cell } from "./value-text.js";

// 'YYYY-MM-DD', 'YYYY-MM-DDTHH:MM[:SS[.ffffff]]', with 'T' or ' ', an optional zone
// ('Z', '+hh', '+hhmm', '+hh:mm') and PostgreSQL's ' BC' suffix.
const ISO_TEXT =
  /^(\d{4,})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?( BC)?$/i;

function zoneOffsetMinutes(designator: string): number {
  if (designator === "Z" || designator === "z") return 0;
  const sign = designator[0] === "-" ? -1 : 1;
  const digits = designator.slice(1).replace(":", "");
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || "0"));
}

/**
 * The wall time of a date-like value in `zone`, or the reason it has none. PgTimestampTz and
 * ISO text with a zone designator are instants and are converted to the zone; PgTimestamp,
 * PgDate and zone-less ISO text are wall times and are taken as they are.
 */
export function wallTimeOfValue(value: Cell, zone: TimeZone, needsZone: boolean): WallTime | string {
  let text: string;
  if (value instanceof PgTimestampTz || value instanceof PgTimestamp || value instanceof PgDate) text = value.text;
  else if (typeof value === "string") text = value.trim();
  else return "not a date or timestamp";
  const m = ISO_TEXT.exec(text);
  if (!m) {
    if (/^-?infinity$/i.test(text)) return `${text} has no calendar date`;
    return "not an ISO 8601 date or timestamp";
  }
  const bc = m[9] !== undefined;
  const year = bc ? 1 - Number(m[1]) : Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4] ?? "0");
  const minute = Number(m[5] ?? "0");
  const second = Number(m[6] ?? "0");
  const microsecond = Number((m[7] ?? "").padEnd(6, "0").slice(0, 6));
  const daysInMonth = epochDay(year, month + 1, 1) - epochDay(year, month, 1);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59) {
    return "not a valid calendar date or time";
  }
  const localMs = epochDay(year, month, day) * 86_400_000 + ((hour * 60 + minute) * 60 + second) * 1000;
  const designator = m[8];
  if (designator !== undefined || value instanceof PgTimestampTz) {
    const epochMs = localMs - zoneOffsetMinutes(designator ?? "Z") * 60_000;
    return wallTimeOf(epochMs, zone, needsZone, microsecond);
  }
  const wall: WallTime = { year, month, day, hour, minute, second, microsecond };
  if (!needsZone) return wall;
  const offsetMinutes = zone.offsetForWallTime(wall);
  return { ...wall, offsetMinutes, zoneAbbreviation: zone.abbreviationAt(localMs - offsetMinutes * 60_000) };
}
