import { describe, expect, it } from "vitest";
import { parseDuration } from "../../src/config/duration.js";

describe("durations as operators write them", () => {
  it.each([
    ["200ms", 200],
    ["60s", 60_000],
    ["2m", 120_000],
    ["1h", 3_600_000],
    ["7d", 604_800_000],
    ["400d", 34_560_000_000],
    ["1h30m", 5_400_000],
    ["0s", 0],
  ])("%s is %d ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["", "60", "60 s", "1.5h", "-1s", "1w", "s", "ms", "10sec", "1h 30m", "1H"])(
    "%j is refused (a number needs one of the units ms, s, m, h, d)",
    (text) => {
      expect(parseDuration(text)).toBeUndefined();
    },
  );
});
