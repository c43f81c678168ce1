/**
 * Small statistics helpers for the benchmarks: percentiles (nearest-rank on a
 * sorted copy), medians and rounding for the table.
 * @module
 */

/** The `p`-th percentile (0–100) of `xs` by nearest rank; NaN for an empty list. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** The median (mean of the two middle values for an even count); NaN when empty. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export interface Summary {
  n: number;
  p50: number;
  p99: number;
  min: number;
  max: number;
  mean: number;
}

/** p50, p99, min, max and mean of a sample. */
export function summarize(xs: readonly number[]): Summary {
  const n = xs.length;
  return {
    n,
    p50: percentile(xs, 50),
    p99: percentile(xs, 99),
    min: n ? xs.reduce((a, b) => Math.min(a, b)) : NaN,
    max: n ? xs.reduce((a, b) => Math.max(a, b)) : NaN,
    mean: n ? xs.reduce((a, b) => a + b, 0) / n : NaN,
  };
}

/** Rounds to `digits` decimals (for JSON output and the table). */
export function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
