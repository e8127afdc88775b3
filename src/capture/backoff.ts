// Exponential backoff with full jitter: delay n is uniform in [0, min(max, initial * 2^n)].

export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
}

export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, attempt));
  return Math.max(policy.initialMs, Math.floor(random() * ceiling));
}
