/**
 * Statistics for judging probabilistic direction forecasts, each by its published definition:
 * - wilsonInterval: Wilson (1927) score interval for a binomial proportion;
 * - brierScore, brierSkillScore: Brier (1950) score and its skill relative to a reference forecast;
 * - logLoss: mean negative log-likelihood, clipped as scikit-learn's `log_loss` does;
 * - spearman: Spearman (1904) rank correlation, ties given their average rank;
 * - mcnemarExact: exact (binomial) McNemar (1947) test on paired hits of two forecasters;
 * - blockBootstrapMean: non-overlapping block bootstrap (Carlstein 1986; Künsch 1989) of a mean.
 * Pure functions: no I/O, randomness only from a seeded mulberry32.
 */

import { mulberry32 } from '../model/random.js';

export interface Interval {
  low: number;
  high: number;
}

/** z of the two-sided 95% normal interval, Φ⁻¹(0.975). */
const Z95 = 1.959963984540054;

/** scikit-learn's clipping of probabilities in `log_loss`: keeps a confident miss finite. */
const LOG_LOSS_EPS = 1e-15;

/** The common length of two paired series; throws when they differ or when there are fewer than `minimum` pairs. */
export function pairedLength(a: ArrayLike<unknown>, b: ArrayLike<unknown>, what: string, minimum = 1): number {
  if (a.length !== b.length) throw new RangeError(`${what}: paired inputs have ${a.length} and ${b.length} values`);
  if (a.length < minimum) throw new RangeError(`${what}: needs at least ${minimum} pair(s), got ${a.length}`);
  return a.length;
}

/**
 * Wilson (1927): the p solving |p̂ − p| = z·√(p(1 − p)/n), i.e.
 * (s + z²/2)/(n + z²) ± z/(n + z²) · √(s(n − s)/n + z²/4). With no trials every proportion is possible.
 */
export function wilsonInterval(successes: number, n: number, z = Z95): Interval {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`wilsonInterval: n must be a non-negative integer, got ${n}`);
  if (!Number.isInteger(successes) || successes < 0 || successes > n) {
    throw new RangeError(`wilsonInterval: successes must be an integer in [0, ${n}], got ${successes}`);
  }
  if (n === 0) return { low: 0, high: 1 };
  const z2 = z * z;
  const centre = (successes + z2 / 2) / (n + z2);
  const half = (z / (n + z2)) * Math.sqrt((successes * (n - successes)) / n + z2 / 4);
  // At s = 0 or s = n one bound is exactly 0 or 1 in theory; rounding must not push it outside.
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/** Brier (1950): mean of (p − y)². */
export function brierScore(prob: ArrayLike<number>, outcome: ArrayLike<number>): number {
  const n = pairedLength(prob, outcome, 'brierScore');
  let sum = 0;
  for (let i = 0; i < n; i++) sum += (prob[i]! - outcome[i]!) ** 2;
  return sum / n;
}

/** Brier skill score 1 − BS / BS_ref; null when BS_ref is 0 (a reference that is never wrong leaves no skill to measure). */
export function brierSkillScore(brier: number, referenceBrier: number): number | null {
  return referenceBrier === 0 ? null : 1 - brier / referenceBrier;
}

/** −mean(y·ln p + (1 − y)·ln(1 − p)), p clipped to [1e-15, 1 − 1e-15] as scikit-learn's `log_loss`. */
export function logLoss(prob: ArrayLike<number>, outcome: ArrayLike<number>): number {
  const n = pairedLength(prob, outcome, 'logLoss');
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const p = Math.min(1 - LOG_LOSS_EPS, Math.max(LOG_LOSS_EPS, prob[i]!));
    const y = outcome[i]!;
    sum += y * Math.log(p) + (1 - y) * Math.log(1 - p);
  }
  return -sum / n;
}

/** 1-based ranks, each run of ties given the average of the ranks it spans. */
function averageRanks(values: ArrayLike<number>): Float64Array {
  const order = Array.from({ length: values.length }, (_, i) => i).sort((i, j) => values[i]! - values[j]!);
  const ranks = new Float64Array(values.length);
  for (let start = 0; start < order.length; ) {
    let end = start + 1;
    while (end < order.length && values[order[end]!] === values[order[start]!]) end++;
    // Positions start..end−1 hold ranks start+1..end: their average.
    const rank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) ranks[order[k]!] = rank;
    start = end;
  }
  return ranks;
}

/** Spearman (1904): Pearson correlation of the average ranks. Null when n < 3 or either side is constant. */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number | null {
  const n = pairedLength(x, y, 'spearman', 0);
  if (n < 3) return null;
  const rx = averageRanks(x);
  const ry = averageRanks(y);
  // Both rank vectors sum to n(n + 1)/2 whatever the ties.
  const mean = (n + 1) / 2;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = rx[i]! - mean;
    const dy = ry[i]! - mean;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return null;
  // Rounding may land a perfect correlation an ulp outside [−1, 1].
  return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
}

/**
 * P(X ≤ k) for X ~ Binomial(m, ½) and k ≤ m/2, exactly and without overflow for m in the thousands: the terms are
 * summed relative to the largest, P(X = k) = C(m, k)·2⁻ᵐ, whose logarithm is accumulated factor by factor.
 */
function binomialHalfCdf(k: number, m: number): number {
  let logTop = -m * Math.LN2;
  for (let i = 1; i <= k; i++) logTop += Math.log((m - k + i) / i);
  // P(X = i − 1) / P(X = i) = i / (m − i + 1) ≤ 1 for i ≤ k ≤ m/2: the relative terms only shrink.
  let term = 1;
  let sum = 1;
  for (let i = k; i > 0; i--) {
    term *= i / (m - i + 1);
    sum += term;
  }
  return Math.exp(logTop) * sum;
}

/**
 * Exact McNemar test (McNemar 1947; exact binomial form) on paired hits of two forecasters on the same sessions.
 * b = sessions A got right and B got wrong, c = the reverse. Under "equally good" each discordant session is a fair coin,
 * so the two-sided p = min(1, 2·P(X ≤ min(b, c))) with X ~ Binomial(b + c, ½); b + c = 0 → p = 1.
 */
export function mcnemarExact(aCorrect: ArrayLike<boolean>, bCorrect: ArrayLike<boolean>): { b: number; c: number; p_value: number } {
  const n = pairedLength(aCorrect, bCorrect, 'mcnemarExact', 0);
  let b = 0;
  let c = 0;
  for (let i = 0; i < n; i++) {
    if (aCorrect[i] && !bCorrect[i]) b++;
    else if (!aCorrect[i] && bCorrect[i]) c++;
  }
  const p_value = b + c === 0 ? 1 : Math.min(1, 2 * binomialHalfCdf(Math.min(b, c), b + c));
  return { b, c, p_value };
}

/** The q-quantile of ascending `sorted`, interpolating linearly between order statistics (numpy's default, "linear"). */
function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/**
 * Area under the ROC curve of `score` for the sessions whose outcome is 1 (Mann & Whitney 1947; Hanley & McNeil 1982):
 * U / (n₁·n₀) with average ranks for ties, i.e. the chance that a random up-session scored above a random down-session,
 * ties counting ½. Rank-based, so a drift of the base rate or a miscalibration leaves it alone: 0.5 is no discrimination.
 * Null when either class is empty.
 */
export function auc(score: ArrayLike<number>, outcome: ArrayLike<number>): number | null {
  const n = pairedLength(score, outcome, 'auc', 0);
  const ranks = averageRanks(score);
  let ones = 0;
  let rankSum = 0;
  for (let i = 0; i < n; i++) {
    if (outcome[i] === 1) {
      ones++;
      rankSum += ranks[i]!;
    }
  }
  const zeros = n - ones;
  if (ones === 0 || zeros === 0) return null;
  return (rankSum - (ones * (ones + 1)) / 2) / (ones * zeros);
}

/**
 * Non-overlapping block bootstrap (Carlstein 1986; Künsch 1989) of the mean of a per-session difference series
 * (e.g. the Brier difference of two forecasters on the same sessions). Whole blocks keep the serial dependence of
 * neighbouring sessions that an i.i.d. bootstrap would destroy. The series is cut into consecutive blocks of
 * `blockLength` (the last may be shorter); each of `samples` resamples draws ceil(n / blockLength) blocks with
 * replacement, uniformly with mulberry32(seed), and takes the mean of their concatenation.
 * Returns the observed mean, the 95% percentile interval of the resampled means, and a two-sided p-value for
 * "mean = 0" from the centred bootstrap, p = (1 + #{|m*_b − m| ≥ |m|}) / (samples + 1).
 */
export function blockBootstrapMean(
  diffs: ArrayLike<number>,
  options: { blockLength: number; samples: number; seed: number },
): { mean: number; interval: Interval; p_value: number; blocks: number } {
  const { blockLength, samples, seed } = options;
  const n = diffs.length;
  if (n === 0) throw new RangeError('blockBootstrapMean: needs at least one value');
  if (!Number.isInteger(blockLength) || blockLength < 1) throw new RangeError(`blockBootstrapMean: blockLength must be an integer ≥ 1, got ${blockLength}`);
  if (!Number.isInteger(samples) || samples < 1) throw new RangeError(`blockBootstrapMean: samples must be an integer ≥ 1, got ${samples}`);

  const blocks = Math.ceil(n / blockLength);
  const blockSum = new Float64Array(blocks);
  const blockSize = new Float64Array(blocks);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const k = Math.floor(i / blockLength);
    blockSum[k]! += diffs[i]!;
    blockSize[k]!++;
    total += diffs[i]!;
  }
  const mean = total / n;

  const random = mulberry32(seed);
  const means = new Float64Array(samples);
  let extreme = 0;
  for (let s = 0; s < samples; s++) {
    let sum = 0;
    let size = 0;
    for (let j = 0; j < blocks; j++) {
      const k = Math.floor(random() * blocks);
      sum += blockSum[k]!;
      size += blockSize[k]!;
    }
    // The mean of the concatenation: a drawn short last block makes it shorter than n.
    means[s] = sum / size;
    if (Math.abs(means[s]! - mean) >= Math.abs(mean)) extreme++;
  }
  means.sort();
  return {
    mean,
    interval: { low: quantileSorted(means, 0.025), high: quantileSorted(means, 0.975) },
    p_value: (1 + extreme) / (samples + 1),
    blocks,
  };
}

/**
 * Whether `score` tells the outcomes apart beyond chance: the AUC, the 95% percentile interval of its non-overlapping
 * block bootstrap (blocks as in `blockBootstrapMean`, a resample drawn with a single class counting as no
 * discrimination), and the one-sided p of "AUC ≤ ½", p = (1 + #{AUC* ≤ ½}) / (samples + 1). Null when either class is
 * empty. A resample is a multiset of sessions: its AUC is read off the sessions' one global order by score, ties
 * grouped, in O(n) — so thousands of resamples of thousands of sessions stay cheap.
 */
export function blockBootstrapAuc(
  score: ArrayLike<number>,
  outcome: ArrayLike<number>,
  options: { blockLength: number; samples: number; seed: number },
): { auc: number; interval: Interval; p_value: number } | null {
  const observed = auc(score, outcome);
  if (observed === null) return null;
  const { blockLength, samples, seed } = options;
  const n = score.length;
  // Sessions in ascending score, cut into groups of equal scores.
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => score[a]! - score[b]!);
  const groupEnds: number[] = [];
  for (let k = 1; k <= n; k++) if (k === n || score[order[k]!] !== score[order[k - 1]!]) groupEnds.push(k);
  const blocks = Math.ceil(n / blockLength);
  const drawn = new Float64Array(n);
  const random = mulberry32(seed);
  const values = new Float64Array(samples);
  let notAbove = 0;
  for (let s = 0; s < samples; s++) {
    drawn.fill(0);
    for (let j = 0; j < blocks; j++) {
      const start = Math.floor(random() * blocks) * blockLength;
      for (let i = start; i < Math.min(n, start + blockLength); i++) drawn[i]!++;
    }
    // Each up-session counts the down-sessions below it, and half of those tied with it.
    let downsBelow = 0;
    let pairsWon = 0;
    let ups = 0;
    let start = 0;
    for (const end of groupEnds) {
      let groupUps = 0;
      let groupDowns = 0;
      for (let k = start; k < end; k++) {
        const i = order[k]!;
        if (outcome[i] === 1) groupUps += drawn[i]!;
        else groupDowns += drawn[i]!;
      }
      pairsWon += groupUps * (downsBelow + groupDowns / 2);
      downsBelow += groupDowns;
      ups += groupUps;
      start = end;
    }
    values[s] = ups > 0 && downsBelow > 0 ? pairsWon / (ups * downsBelow) : 0.5;
    if (values[s]! <= 0.5) notAbove++;
  }
  values.sort();
  return { auc: observed, interval: { low: quantileSorted(values, 0.025), high: quantileSorted(values, 0.975) }, p_value: (1 + notAbove) / (samples + 1) };
}
