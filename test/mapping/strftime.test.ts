// strftime directives checked against GNU date (C locale) across zones, DST changes and ISO week edges.
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { compileStrftime, formatStrftime, StrftimeError, TimezoneError } from "../../src/mapping/index.js";

const DIRECTIVES = "a A b B c C d D e F g G h H I j k l m M n p r R s S t T u U V w W x X y Y z %".split(" ");

const INSTANTS = [
  "2025-04-12T14:03:00Z", // the SPEC's example: 10:03 EDT
  "2024-01-01T00:00:00Z", // a Monday; 2023-12-31 in the Americas
  "2020-12-31T23:59:59Z", // ISO week 53
  "2021-01-03T12:00:00Z", // a Sunday still in ISO week 53 of 2020
  "2024-02-29T05:06:07Z", // leap day, 5 AM
  "2025-03-09T07:30:00Z", // 03:30 EDT, just after the spring change
  "2025-11-02T05:30:00Z", // 01:30 EST, the repeated hour
  "1969-07-20T20:17:40Z", // before the epoch
];
const ZONES = ["UTC", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Pacific/Chatham"];

/** GNU date's output for the lines of `input` (`@epoch` instants), in a zone, C locale. */
function gnuDate(zone: string, format: string, input: string): string {
  try {
    return execFileSync("date", ["-f", "-", `+${format}`], {
      input,
      env: { TZ: zone, LC_ALL: "C", PATH: process.env.PATH },
      encoding: "utf8",
    }).replace(/\n$/, "");
  } catch (error) {
    throw new Error(`this test needs GNU date from coreutils (apt-get install coreutils): ${String(error)}`);
  }
}

const at = (instant: string) => `@${Date.parse(instant) / 1000}`;

describe("formatStrftime against GNU date", () => {
  const pattern = DIRECTIVES.map((d) => `%${d}`).join("|");
  for (const zone of ZONES) {
    it.each(INSTANTS)(`${zone}: %s`, (instant) => {
      const ours = formatStrftime(new Date(instant), pattern, zone).split("|");
      const theirs = gnuDate(zone, pattern, at(instant)).split("|");
      expect(Object.fromEntries(DIRECTIVES.map((d, i) => [d, ours[i]]))).toEqual(
        Object.fromEntries(DIRECTIVES.map((d, i) => [d, theirs[i]])),
      );
    });
  }

  // %Z comes from Intl (ICU), whose US abbreviations start in 1970.
  it.each(["UTC", "America/New_York"])("zone abbreviations in %s", (zone) => {
    for (const instant of INSTANTS.filter((i) => i >= "1970")) {
      expect(formatStrftime(new Date(instant), "%Z", zone)).toBe(gnuDate(zone, "%Z", at(instant)));
    }
  });
});

describe("offsets on the days clocks change", () => {
  // Every 5 minutes across each change day, checked against GNU date in one call (date -f -).
  it.each([
    ["America/New_York", "2025-03-09T00:00:00Z"],
    ["America/New_York", "2025-11-02T00:00:00Z"],
    ["Australia/Lord_Howe", "2025-04-05T00:00:00Z"],
    ["Europe/London", "2025-03-30T00:00:00Z"],
    ["America/St_Johns", "2025-11-02T00:00:00Z"],
  ])("%s on %s", (zone, day) => {
    const instants = Array.from({ length: 12 * 24 * 2 }, (_, i) => Date.parse(day) - 12 * 3_600_000 + i * 300_000);
    const pattern = "%Y-%m-%d %H:%M %z";
    const ours = instants.map((ms) => formatStrftime(new Date(ms), pattern, zone));
    const theirs = gnuDate(zone, pattern, instants.map((ms) => `@${ms / 1000}`).join("\n")).split("\n");
    expect(ours).toEqual(theirs);
  });
});

describe("strftime patterns", () => {
  it.each([
    ["%Y%m%d%H%M%S", "America/New_York", "20250412100300"],
    ["%Y-%m-%dT%H:%M:%S.%f%z", "America/New_York", "2025-04-12T10:03:00.250000-0400"],
    ["day %j of %Y, 100%%", "UTC", "day 102 of 2025, 100%"],
    ["%y%m%d", "Asia/Tokyo", "250412"],
  ])("%s in %s", (pattern, zone, expected) => {
    expect(formatStrftime(new Date("2025-04-12T14:03:00.250Z"), pattern, zone)).toBe(expected);
  });

  it.each([
    ["%Q", "%Q", 0],
    ["%Y%m%", "%", 4],
    ["abc %E", "%E", 4],
  ])("rejects %j naming %s", (pattern, directive, position) => {
    expect(() => compileStrftime(pattern)).toThrowError(StrftimeError);
    expect(() => compileStrftime(pattern)).toThrowError(expect.objectContaining({ directive, position }));
  });

  it("rejects an unknown time zone", () => {
    expect(() => formatStrftime(new Date(0), "%Y", "America/Gotham")).toThrowError(TimezoneError);
  });

  it.each([
    ["%Y%m%d%H%M%S", 14],
    ["%F %T", 19],
    ["%d/%m/%y %a", 12],
    ["%A", undefined],
    ["%s", undefined],
    ["%B %d", undefined],
  ])("%s has fixed directive width %s", (pattern, width) => {
    const f = compileStrftime(pattern);
    expect(width === undefined ? f.directiveWidth : f.directiveWidth! + f.literalText.length).toBe(width);
  });
});
