/**
 * Probability calibration and its measurement:
 * - reliabilityBins, expectedCalibrationError: equal-width reliability diagram and ECE (Naeini et al. 2015; Guo et al. 2017);
 * - fitIsotonic: isotonic regression by pool-adjacent-violators (Ayer et al. 1955; Zadrozny & Elkan 2002 for calibration);
 * - fitPlatt: Platt (1999) scaling on the logit, fitted by Newton's method (Lin, Lin & Weng 2007);
 * - applyCalibration: a pure function of the fitted map, which is plain JSON so it can be stored with a model.
 */

import { pairedLength } from './stats.js';

export interface ReliabilityBin {
  low: number;
  high: number;
  n: number;
  mean_prob: number | null;
  frequency: number | null;
}

export type CalibrationMethod = 'isotonic' | 'platt' | 'none';
export type CalibrationMap =
  | { method: 'isotonic'; x: number[]; y: number[]; n: number }
  | { method: 'platt'; a: number; b: number; n: number }
  | { method: 'none'; n: number };

/** The calibrated probability is never closer to 0 or 1 than this: no daily forecast earns more certainty. */
export const CALIBRATED_FLOOR = 0.01;

/** Platt inputs are clipped to [ε, 1 − ε] so that the logit stays finite. */
const PLATT_CLIP = 1e-6;

function checkProbability(p: number, what: string): void {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`${what}: probability must be in [0, 1], got ${p}`);
}

/** The bin k with k/bins ≤ p < (k + 1)/bins (the last bin also holds p = 1). */
function binOf(p: number, bins: number): number {
  let k = Math.min(bins - 1, Math.floor(p * bins));
  // p·bins can round across an edge (0.8999999999999999·10 = 9): settle by comparing with the edges themselves.
  if (p < k / bins) k--;
  else if (k < bins - 1 && p >= (k + 1) / bins) k++;
  return k;
}

/** `bins` equal-width bins on [0, 1] (default 10); bin k holds low ≤ p < high, the last bin also holds p = 1. Empty bins have n 0 and nulls. */
export function reliabilityBins(prob: ArrayLike<number>, outcome: ArrayLike<number>, bins = 10): ReliabilityBin[] {
  const n = pairedLength(prob, outcome, 'reliabilityBins', 0);
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`reliabilityBins: bins must be an integer ≥ 1, got ${bins}`);
  const count = new Array<number>(bins).fill(0);
  const probSum = new Array<number>(bins).fill(0);
  const hitSum = new Array<number>(bins).fill(0);
  for (let i = 0; i < n; i++) {
    checkProbability(prob[i]!, 'reliabilityBins');
    const k = binOf(prob[i]!, bins);
    count[k]!++;
    probSum[k]! += prob[i]!;
    hitSum[k]! += outcome[i]!;
  }
  return count.map((c, k) => ({
    low: k / bins,
    high: (k + 1) / bins,
    n: c,
    mean_prob: c === 0 ? null : probSum[k]! / c,
    frequency: c === 0 ? null : hitSum[k]! / c,
  }));
}

/** Expected calibration error (Naeini et al. 2015; Guo et al. 2017): Σ_b (n_b / N)·|frequency_b − mean_prob_b| over equal-width bins. */
export function expectedCalibrationError(prob: ArrayLike<number>, outcome: ArrayLike<number>, bins = 10): number {
  const n = pairedLength(prob, outcome, 'expectedCalibrationError');
  let sum = 0;
  for (const bin of reliabilityBins(prob, outcome, bins)) {
    if (bin.n > 0) sum += bin.n * Math.abs(bin.frequency! - bin.mean_prob!);
  }
  return sum / n;
}

/**
 * Isotonic regression of outcome on prob by pool-adjacent-violators (Ayer et al. 1955; Zadrozny & Elkan 2002),
 * non-decreasing, equal weights. Ties in prob are pooled first (their outcomes averaged, as scikit-learn's
 * IsotonicRegression does), so every distinct prob gets one fitted value. Stored as scikit-learn stores it: for each
 * fitted block its smallest and largest input as thresholds x (one threshold when they coincide) and the block value
 * twice (once) as y; the points inside a block carry no information for the linear interpolation.
 */
export function fitIsotonic(prob: ArrayLike<number>, outcome: ArrayLike<number>): CalibrationMap {
  const n = pairedLength(prob, outcome, 'fitIsotonic');
  for (let i = 0; i < n; i++) checkProbability(prob[i]!, 'fitIsotonic');
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => prob[i]! - prob[j]!);

  // A stack of fitted blocks, each covering inputs low..high with the mean `value` of its `weight` outcomes.
  const blocks: { low: number; high: number; value: number; weight: number }[] = [];
  for (let start = 0; start < n; ) {
    const x = prob[order[start]!]!;
    let end = start;
    let sum = 0;
    for (; end < n && prob[order[end]!] === x; end++) sum += outcome[order[end]!]!;
    blocks.push({ low: x, high: x, value: sum / (end - start), weight: end - start });
    start = end;
    // Pool equal values too: the blocks end strictly increasing, so no stored threshold is redundant.
    while (blocks.length > 1 && blocks[blocks.length - 2]!.value >= blocks[blocks.length - 1]!.value) {
      const last = blocks.pop()!;
      const top = blocks[blocks.length - 1]!;
      top.value = (top.value * top.weight + last.value * last.weight) / (top.weight + last.weight);
      top.weight += last.weight;
      top.high = last.high;
    }
  }

  const xs: number[] = [];
  const ys: number[] = [];
  for (const block of blocks) {
    xs.push(block.low);
    ys.push(block.value);
    if (block.high > block.low) {
      xs.push(block.high);
      ys.push(block.value);
    }
  }
  return { method: 'isotonic', x: xs, y: ys, n };
}

/**
 * A fine-tuned network's calibration, without labels: on the same windows, its k-th lowest raw P(up) is given the
 * calibrated P(up) its parent gave its own k-th lowest. The fine-tune may re-rank the sessions but not change how
 * confident the calibrated forecasts are allowed to be; no outcome is read, so nothing leaks. An isotonic map
 * (thresholds: the child's raw outputs; values: the parent's calibrated ones), 'none' when the parent had none.
 * Reusing the parent's map as it stood made fine-tuned versions overconfident: their calibrated P(up) had an ECE
 * of 0.156 against 0.077 for freshly trained ones in a 4-year walk-forward (bench/skill.ts, the known edge).
 */
export function rankMatchedCalibration(parent: CalibrationMap, parentRaw: ArrayLike<number>, childRaw: ArrayLike<number>): CalibrationMap {
  const n = pairedLength(parentRaw, childRaw, 'rankMatchedCalibration');
  if (parent.method === 'none') return { method: 'none', n };
  const ascending = (values: ArrayLike<number>) => Array.from(values).sort((a, b) => a - b);
  const child = ascending(childRaw);
  const calibrated = ascending(parentRaw).map((p) => applyCalibration(parent, p));
  const x: number[] = [];
  const y: number[] = [];
  for (let start = 0; start < n; ) {
    // Equal child outputs share one threshold: the mean of the values they were matched to.
    let end = start;
    let sum = 0;
    for (; end < n && child[end] === child[start]; end++) sum += calibrated[end]!;
    x.push(child[start]!);
    y.push(sum / (end - start));
    start = end;
  }
  return { method: 'isotonic', x, y, n };
}

function logit(p: number): number {
  const clipped = Math.min(1 - PLATT_CLIP, Math.max(PLATT_CLIP, p));
  return Math.log(clipped / (1 - clipped));
}

function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

/** ln(1 + eˣ) without overflow. */
function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

/**
 * Platt (1999) scaling on the logit of the probability: p' = 1 / (1 + exp(−(a·logit(p) + b))), maximising the
 * likelihood of Platt's smoothed targets t+ = (N+ + 1)/(N+ + 2), t− = 1/(N− + 2), which keep the fit finite on
 * separable data. Newton's method with backtracking and the start a = 0, b = ln((N+ + 1)/(N− + 1)) follow Lin, Lin &
 * Weng (2007), "A note on Platt's probabilistic outputs for support vector machines" (their A, B are −a, −b).
 */
export function fitPlatt(prob: ArrayLike<number>, outcome: ArrayLike<number>): CalibrationMap {
  const n = pairedLength(prob, outcome, 'fitPlatt');
  for (let i = 0; i < n; i++) checkProbability(prob[i]!, 'fitPlatt');
  const f = Float64Array.from({ length: n }, (_, i) => logit(prob[i]!));
  let positives = 0;
  for (let i = 0; i < n; i++) positives += outcome[i]!;
  const negatives = n - positives;
  const tPlus = (positives + 1) / (positives + 2);
  const tMinus = 1 / (negatives + 2);
  const t = Float64Array.from({ length: n }, (_, i) => (outcome[i] === 1 ? tPlus : tMinus));

  // Negative log-likelihood of the targets: Σ ln(1 + eᶻ) − t·z with z = a·f + b.
  const loss = (a: number, b: number): number => {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const z = a * f[i]! + b;
      sum += softplus(z) - t[i]! * z;
    }
    return sum;
  };

  let a = 0;
  let b = Math.log((positives + 1) / (negatives + 1));
  let current = loss(a, b);
  for (let iteration = 0; iteration < 100; iteration++) {
    let ga = 0;
    let gb = 0;
    // Lin et al.'s tiny ridge keeps the Hessian invertible when every input is the same.
    let haa = 1e-12;
    let hab = 0;
    let hbb = 1e-12;
    for (let i = 0; i < n; i++) {
      const p = sigmoid(a * f[i]! + b);
      const r = p - t[i]!;
      const w = p * (1 - p);
      ga += r * f[i]!;
      gb += r;
      haa += w * f[i]! * f[i]!;
      hab += w * f[i]!;
      hbb += w;
    }
    if (Math.abs(ga) < 1e-5 && Math.abs(gb) < 1e-5) break;
    const det = haa * hbb - hab * hab;
    const da = -(hbb * ga - hab * gb) / det;
    const db = -(haa * gb - hab * ga) / det;
    // Backtrack until the Armijo condition holds; a step too small to help means we are at the optimum.
    const slope = ga * da + gb * db;
    let step = 1;
    while (step >= 1e-10 && loss(a + step * da, b + step * db) > current + 1e-4 * step * slope) step /= 2;
    if (step < 1e-10) break;
    a += step * da;
    b += step * db;
    current = loss(a, b);
  }
  return { method: 'platt', a, b, n };
}

/** fitIsotonic / fitPlatt by method; 'none', or fewer than minSamples rows (default 100), gives { method: 'none' }. */
export function fitCalibration(method: CalibrationMethod, prob: ArrayLike<number>, outcome: ArrayLike<number>, minSamples = 100): CalibrationMap {
  const n = pairedLength(prob, outcome, 'fitCalibration', 0);
  // Too few rows would fit noise: an uncalibrated forecast is the honest fallback.
  if (method === 'none' || n < minSamples) return { method: 'none', n };
  return method === 'isotonic' ? fitIsotonic(prob, outcome) : fitPlatt(prob, outcome);
}

/** The isotonic fit at p: linear between thresholds, clipped to the end values outside them (out_of_bounds='clip'). */
function interpolate(x: readonly number[], y: readonly number[], p: number): number {
  if (p <= x[0]!) return y[0]!;
  if (p >= x[x.length - 1]!) return y[y.length - 1]!;
  // Largest lo with x[lo] ≤ p, by bisection: x is strictly increasing.
  let lo = 0;
  let hi = x.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (x[mid]! <= p) lo = mid;
    else hi = mid;
  }
  return y[lo]! + ((p - x[lo]!) / (x[hi]! - x[lo]!)) * (y[hi]! - y[lo]!);
}

/** The calibrated probability, clipped to [CALIBRATED_FLOOR, 1 − CALIBRATED_FLOOR] (also for 'none'). A pure function of the stored map. */
export function applyCalibration(map: CalibrationMap, prob: number): number {
  checkProbability(prob, 'applyCalibration');
  let calibrated: number;
  switch (map.method) {
    case 'isotonic':
      calibrated = interpolate(map.x, map.y, prob);
      break;
    case 'platt':
      calibrated = sigmoid(map.a * logit(prob) + map.b);
      break;
    case 'none':
      calibrated = prob;
      break;
    default:
      // A map read back from storage is not checked by the compiler.
      throw new RangeError(`applyCalibration: unknown method ${(map as { method: unknown }).method}`);
  }
  return Math.min(1 - CALIBRATED_FLOOR, Math.max(CALIBRATED_FLOOR, calibrated));
}
