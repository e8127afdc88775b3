// Exact decimal arithmetic for numeric fields: parse the decimal text, rescale with half-up rounding, never through a float.

/** A decimal number as sign, magnitude and scale: value = (negative ? -1 : 1) * unscaled / 10^scale. */
export interface Decimal {
  readonly negative: boolean;
  /** The magnitude without its decimal point; never negative. */
  readonly unscaled: bigint;
  readonly scale: number;
}

const DECIMAL_TEXT = /^\s*([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,4}))?\s*$/;
const MAX_EXPONENT = 400;

const POWERS: bigint[] = [1n];
export function pow10(n: number): bigint {
  for (let i = POWERS.length; i <= n; i++) POWERS.push(POWERS[i - 1]! * 10n);
  return POWERS[n]!;
}

/** Parses decimal text ('-1234.56', '007', '1.5e-7') exactly; undefined when it is not a finite number. */
export function parseDecimalText(text: string): Decimal | undefined {
  const m = DECIMAL_TEXT.exec(text);
  if (!m) return undefined;
  const integer = m[2] ?? "";
  const fraction = m[3] ?? "";
  if (integer === "" && fraction === "") return undefined;
  const exponent = m[4] === undefined ? 0 : Number(m[4]);
  if (Math.abs(exponent) > MAX_EXPONENT) return undefined;
  let unscaled = BigInt(integer + fraction);
  let scale = fraction.length - exponent;
  if (scale < 0) {
    unscaled *= pow10(-scale);
    scale = 0;
  }
  return { negative: m[1] === "-" && unscaled !== 0n, unscaled, scale };
}

/** A decimal from a column value: numeric text, a JavaScript number (finite only) or an int8 bigint. */
export function toDecimal(value: unknown): Decimal | undefined {
  if (typeof value === "string") return parseDecimalText(value);
  if (typeof value === "number") return Number.isFinite(value) ? parseDecimalText(String(value)) : undefined;
  if (typeof value === "bigint") return { negative: value < 0n, unscaled: value < 0n ? -value : value, scale: 0 };
  return undefined;
}

/**
 * Rescales to `scale` decimals. Dropped digits round half-up away from zero (1.005 → 1.01,
 * -1.005 → -1.01), as COBOL's ROUNDED does; a result of zero is always positive.
 */
export function rescale(d: Decimal, scale: number): Decimal {
  if (d.scale === scale) return d;
  let unscaled: bigint;
  if (d.scale < scale) {
    unscaled = d.unscaled * pow10(scale - d.scale);
  } else {
    const divisor = pow10(d.scale - scale);
    unscaled = d.unscaled / divisor;
    if ((d.unscaled % divisor) * 2n >= divisor) unscaled += 1n;
  }
  return { negative: d.negative && unscaled !== 0n, unscaled, scale };
}

/** Fixed-point text with exactly `decimals` fraction digits: '-1234.50', '0', '99999999.99'. */
export function formatFixed(d: Decimal, decimals: number): string {
  const r = rescale(d, decimals);
  const digits = r.unscaled.toString().padStart(decimals + 1, "0");
  const integer = digits.slice(0, digits.length - decimals);
  const text = decimals === 0 ? integer : `${integer}.${digits.slice(digits.length - decimals)}`;
  return r.negative ? `-${text}` : text;
}

/** Exact sum of decimals at the largest scale among them. */
export function sumDecimals(values: readonly Decimal[]): Decimal {
  let scale = 0;
  for (const v of values) scale = Math.max(scale, v.scale);
  let total = 0n;
  for (const v of values) {
    const magnitude = v.unscaled * pow10(scale - v.scale);
    total += v.negative ? -magnitude : magnitude;
  }
  return { negative: total < 0n, unscaled: total < 0n ? -total : total, scale };
}
