/**
 * Sample statistics for tests and benches. Runtime-agnostic (no Node APIs): the workerd bench
 * worker imports it too, through bench/support/phases.ts.
 */

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * The q-quantile (0 <= q <= 1) by the nearest-rank method: the smallest sample with at least
 * q of the samples at or below it. NaN for no samples.
 */
export function percentile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}
