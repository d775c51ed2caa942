/**
 * Split-conformal prediction interval (Vovk et al. 2005; Lei et al. 2018), equal-tailed: order statistics of
 * calibration residuals that bound a new exchangeable residual with a guaranteed probability, whatever its distribution.
 */

export interface ConformalBounds {
  coverage: number;
  lower: number;
  upper: number;
  n: number;
}

/** Rounds away the floating-point noise of (n + 1)·α before a floor or ceil: (n + 1)·0.9 may come out as 90.00000000000001. */
function clean(x: number): number {
  return Math.round(x * 1e9) / 1e9;
}

/**
 * residuals = actual − predicted on calibration rows (any order); α = 1 − coverage. lower = the k_lo-th smallest residual
 * with k_lo = floor((n + 1)·α/2), upper = the k_hi-th smallest with k_hi = ceil((n + 1)·(1 − α/2)). A new exchangeable
 * residual is equally likely to take any of the n + 1 ranks, so each tail holds at most α/2 and
 * [predicted + lower, predicted + upper] covers with probability ≥ coverage.
 * Null when k_lo < 1 or k_hi > n (too few residuals for that coverage).
 */
export function conformalBounds(residuals: readonly number[], coverage: number): ConformalBounds | null {
  if (!(coverage > 0 && coverage < 1)) throw new RangeError(`conformalBounds: coverage must be in (0, 1), got ${coverage}`);
  const n = residuals.length;
  const alpha = 1 - coverage;
  const kLo = Math.floor(clean(((n + 1) * alpha) / 2));
  const kHi = Math.ceil(clean((n + 1) * (1 - alpha / 2)));
  if (kLo < 1 || kHi > n) return null;
  const sorted = [...residuals].sort((a, b) => a - b);
  return { coverage, lower: sorted[kLo - 1]!, upper: sorted[kHi - 1]!, n };
}
