// Durations as operators write them ("200ms", "60s", "2m", "1h", "7d", "1h30m"), in milliseconds.

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+)(ms|s|m|h|d)/y;

export const DURATION_EXAMPLES = "a duration such as 200ms, 60s, 2m, 1h, 7d or 1h30m";

/** Milliseconds, or undefined when `text` is not a duration (a bare number has no unit and is refused). */
export function parseDuration(text: string): number | undefined {
  if (text === "") return undefined;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const match = PART.exec(text);
    if (!match?.[1] || !match[2]) return undefined;
    total += Number(match[1]) * (UNIT_MS[match[2]] ?? Number.NaN);
  }
  return Number.isSafeInteger(total) ? total : undefined;
}
