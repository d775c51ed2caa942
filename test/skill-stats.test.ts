import { describe, expect, it } from 'vitest';
import { gaussian, mulberry32 } from '../plugin/model/random.js';
import {
  applyCalibration,
  CALIBRATED_FLOOR,
  expectedCalibrationError,
  fitCalibration,
  fitIsotonic,
  fitPlatt,
  rankMatchedCalibration,
  reliabilityBins,
  type CalibrationMap,
} from '../plugin/skill/calibration-map.js';
import { conformalBounds } from '../plugin/skill/conformal.js';
import {
  auc,
  blockBootstrapAuc,
  blockBootstrapMean,
  brierScore,
  brierSkillScore,
  logLoss,
  mcnemarExact,
  spearman,
  wilsonInterval,
} from '../plugin/skill/stats.js';

const Z = 1.959963984540054; // z² = 3.841458820694124

/** Paired hit series with the given counts of (A right, B right) combinations. */
function pairs(counts: { both: number; onlyA: number; onlyB: number; neither: number }): [boolean[], boolean[]] {
  const a: boolean[] = [];
  const b: boolean[] = [];
  const push = (k: number, x: boolean, y: boolean) => {
    for (let i = 0; i < k; i++) {
      a.push(x);
      b.push(y);
    }
  };
  push(counts.both, true, true);
  push(counts.onlyA, true, false);
  push(counts.onlyB, false, true);
  push(counts.neither, false, false);
  return [a, b];
}

const logistic = (z: number) => 1 / (1 + Math.exp(-z));

describe('wilsonInterval', () => {
  it('7 of 10 at 95%', () => {
    // centre = (7 + z²/2)/(10 + z²) = 8.920729/13.841459 = 0.644493;
    // half = z/(10 + z²)·√(7·3/10 + z²/4) = 0.141601·√(2.1 + 0.960365) = 0.141601·1.749390 = 0.247715
    // → [0.396778, 0.892209]
    const { low, high } = wilsonInterval(7, 10);
    expect(low).toBeCloseTo(0.396778, 6);
    expect(high).toBeCloseTo(0.892209, 6);
  });

  it('0 of n and n of n touch 0 and 1 exactly', () => {
    // s = 0: centre = half = (z²/2)/(n + z²), so low = 0, high = z²/(10 + z²) = 3.841459/13.841459 = 0.277533
    expect(wilsonInterval(0, 10)).toEqual({ low: 0, high: expect.closeTo(0.277533, 6) });
    // s = n: by symmetry low = 1 − 0.277533 = n/(n + z²) = 10/13.841459 = 0.722467, high = 1
    expect(wilsonInterval(10, 10)).toEqual({ low: expect.closeTo(0.722467, 6), high: 1 });
  });

  it('n = 0 allows every proportion; z is a parameter', () => {
    expect(wilsonInterval(0, 0)).toEqual({ low: 0, high: 1 });
    // z = 1, 1 of 2: centre (1 + 1/2)/(2 + 1) = 0.5, half 1/3·√(1·1/2 + 1/4) = √0.75/3 = 0.288675
    const { low, high } = wilsonInterval(1, 2, 1);
    expect(low).toBeCloseTo(0.5 - 0.288675, 6);
    expect(high).toBeCloseTo(0.5 + 0.288675, 6);
  });

  it('rejects impossible counts', () => {
    expect(() => wilsonInterval(11, 10)).toThrow(RangeError);
    expect(() => wilsonInterval(-1, 10)).toThrow(RangeError);
    expect(() => wilsonInterval(1.5, 10)).toThrow(RangeError);
  });

  it('uses the 95% z by default', () => {
    expect(wilsonInterval(7, 10)).toEqual(wilsonInterval(7, 10, Z));
  });
});

describe('brierScore and brierSkillScore', () => {
  it('mean squared error of the probability', () => {
    // (0.9 − 1)² + (0.2 − 0)² + (0.6 − 0)² + (0.5 − 1)² = 0.01 + 0.04 + 0.36 + 0.25 = 0.66; / 4 = 0.165
    expect(brierScore([0.9, 0.2, 0.6, 0.5], [1, 0, 0, 1])).toBeCloseTo(0.165, 12);
  });

  it('skill against a reference, null when the reference is perfect', () => {
    // 1 − 0.165/0.25 = 1 − 0.66 = 0.34 (0.25 is the Brier score of always saying 0.5)
    expect(brierSkillScore(0.165, 0.25)).toBeCloseTo(0.34, 12);
    // worse than the reference: 1 − 0.3/0.25 = −0.2
    expect(brierSkillScore(0.3, 0.25)).toBeCloseTo(-0.2, 12);
    expect(brierSkillScore(0.1, 0)).toBeNull();
  });

  it('rejects mismatched and empty input', () => {
    expect(() => brierScore([0.5, 0.5], [1])).toThrow(RangeError);
    expect(() => brierScore([], [])).toThrow(RangeError);
  });
});

describe('logLoss', () => {
  it('mean negative log-likelihood', () => {
    // −(ln 0.8 + ln(1 − 0.4))/2 = (0.223144 + 0.510826)/2 = 0.366985
    expect(logLoss([0.8, 0.4], [1, 0])).toBeCloseTo(0.366985, 6);
  });

  it('clips p = 0 with y = 1 to 1e-15, as scikit-learn does', () => {
    // −ln(1e-15) = 15·ln 10 = 34.538776
    expect(logLoss([0], [1])).toBeCloseTo(34.538776, 6);
    // p = 1 with y = 1 is clipped to 1 − 1e-15: −ln(1 − 1e-15) ≈ 1e-15
    expect(logLoss([1], [1])).toBeCloseTo(0, 12);
  });

  it('rejects mismatched and empty input', () => {
    expect(() => logLoss([0.5], [1, 0])).toThrow(RangeError);
    expect(() => logLoss([], [])).toThrow(RangeError);
  });
});

describe('spearman', () => {
  it('without ties: 1 − 6Σd²/(n(n² − 1))', () => {
    // ranks x 1..5, ranks y 1,3,2,5,4: d = 0,−1,1,−1,1, Σd² = 4 → 1 − 6·4/(5·24) = 0.8
    expect(spearman([10, 20, 30, 40, 50], [1, 3, 2, 5, 4])).toBeCloseTo(0.8, 12);
    expect(spearman([1, 2, 3], [9, 5, 1])).toBe(-1);
  });

  it('ties get their average rank', () => {
    // ranks x = 1, 2.5, 2.5, 4; ranks y = 1, 3, 2, 4; both centred on 2.5:
    // dx = −1.5, 0, 0, 1.5; dy = −1.5, 0.5, −0.5, 1.5
    // Σdx·dy = 2.25 + 2.25 = 4.5, Σdx² = 4.5, Σdy² = 2.25 + 0.25 + 0.25 + 2.25 = 5 → 4.5/√(4.5·5) = √0.9 = 0.948683
    expect(spearman([1, 2, 2, 3], [1, 3, 2, 4])).toBeCloseTo(0.948683, 6);
  });

  it('null for fewer than 3 pairs or a constant side; throws on mismatched lengths', () => {
    expect(spearman([1, 2], [2, 1])).toBeNull();
    expect(spearman([], [])).toBeNull();
    expect(spearman([4, 4, 4], [1, 2, 3])).toBeNull();
    expect(spearman([1, 2, 3], [0, 0, 0])).toBeNull();
    expect(() => spearman([1, 2, 3], [1, 2])).toThrow(RangeError);
  });
});

describe('mcnemarExact', () => {
  it('b = 8, c = 2: p = 2·P(X ≤ 2 | 10, ½); concordant pairs do not count', () => {
    // P(X ≤ 2) = (C(10,0) + C(10,1) + C(10,2))/2¹⁰ = (1 + 10 + 45)/1024 = 56/1024 → p = 112/1024 = 0.109375
    const [a, b] = pairs({ both: 3, onlyA: 8, onlyB: 2, neither: 4 });
    expect(mcnemarExact(a, b)).toEqual({ b: 8, c: 2, p_value: expect.closeTo(0.109375, 12) });
  });

  it('b = 0, c = 5 and b = c = 5', () => {
    // 2·P(X = 0 | 5, ½) = 2/32 = 0.0625
    const [a1, b1] = pairs({ both: 0, onlyA: 0, onlyB: 5, neither: 0 });
    expect(mcnemarExact(a1, b1).p_value).toBeCloseTo(0.0625, 12);
    // 2·P(X ≤ 5 | 10, ½) = 2·(1 + 10 + 45 + 120 + 210 + 252)/1024 = 2·638/1024 > 1 → capped at 1
    const [a2, b2] = pairs({ both: 0, onlyA: 5, onlyB: 5, neither: 0 });
    expect(mcnemarExact(a2, b2).p_value).toBe(1);
  });

  it('b + c = 0 gives p = 1', () => {
    const [a, b] = pairs({ both: 6, onlyA: 0, onlyB: 0, neither: 3 });
    expect(mcnemarExact(a, b)).toEqual({ b: 0, c: 0, p_value: 1 });
    expect(mcnemarExact([], [])).toEqual({ b: 0, c: 0, p_value: 1 });
  });

  it('stays exact and finite for b + c = 3000', () => {
    // 2·P(X ≤ 1470 | 3000, ½): 2⁻³⁰⁰⁰ underflows a double, so the sum must be done relative to the largest term.
    // scipy.stats.binomtest(1470, 3000, 0.5).pvalue = 0.28139428333940086 (exact rational sum: 0.2813942833394003)
    const [a, b] = pairs({ both: 10, onlyA: 1530, onlyB: 1470, neither: 10 });
    const { p_value } = mcnemarExact(a, b);
    expect(Number.isFinite(p_value)).toBe(true);
    expect(Math.abs(p_value / 0.2813942833394003 - 1)).toBeLessThan(1e-9);
    // scipy.stats.binomtest(1400, 3000, 0.5).pvalue = 0.00027856396103923366
    const [a2, b2] = pairs({ both: 0, onlyA: 1600, onlyB: 1400, neither: 0 });
    expect(Math.abs(mcnemarExact(a2, b2).p_value / 0.00027856396103923366 - 1)).toBeLessThan(1e-9);
  });

  it('rejects mismatched lengths', () => {
    expect(() => mcnemarExact([true], [true, false])).toThrow(RangeError);
  });
});

describe('blockBootstrapMean', () => {
  const options = { blockLength: 5, samples: 999, seed: 42 };

  it('a hand-followed run: short last block, percentile interval and centred p-value', () => {
    // [1, 1, 1, 4] in blocks of 3: B0 = [1, 1, 1] (sum 3, 3 values), B1 = [4] (sum 4, 1 value); observed mean 7/4 = 1.75.
    // mulberry32(7) gives 0.0117 0.0620 | 0.9769 0.6990 | 0.5214 0.4055 | 0.4662 0.2399; floor(u·2) picks blocks
    // B0 B0 | B1 B1 | B1 B0 | B0 B0 → means 6/6 = 1, 8/2 = 4, 7/4 = 1.75, 1 → sorted [1, 1, 1.75, 4].
    // 2.5%: h = 3·0.025 = 0.075 → 1 + 0.075·(1 − 1) = 1; 97.5%: h = 2.925 → 1.75 + 0.925·(4 − 1.75) = 3.83125.
    // |m* − 1.75| ≥ 1.75 only for m* = 4 → p = (1 + 1)/(4 + 1) = 0.4.
    const result = blockBootstrapMean([1, 1, 1, 4], { blockLength: 3, samples: 4, seed: 7 });
    expect(result.mean).toBe(1.75);
    expect(result.blocks).toBe(2);
    expect(result.interval.low).toBeCloseTo(1, 12);
    expect(result.interval.high).toBeCloseTo(3.83125, 12);
    expect(result.p_value).toBeCloseTo(0.4, 12);
  });

  it('one block covering everything: every resample is the series itself', () => {
    // mean 2, interval [2, 2]; |2 − 2| ≥ 2 never → p = 1/(9 + 1)
    expect(blockBootstrapMean([1, 2, 3], { blockLength: 5, samples: 9, seed: 1 })).toEqual({
      mean: 2,
      interval: { low: 2, high: 2 },
      p_value: 0.1,
      blocks: 1,
    });
  });

  it('is deterministic in the seed', () => {
    const random = mulberry32(3);
    const series = Array.from({ length: 50 }, () => gaussian(random));
    expect(blockBootstrapMean(series, options)).toEqual(blockBootstrapMean(series, options));
    expect(blockBootstrapMean(series, { ...options, seed: 43 })).not.toEqual(blockBootstrapMean(series, options));
  });

  it('counts ceil(n / blockLength) blocks', () => {
    expect(blockBootstrapMean(new Array(10).fill(1), { ...options, blockLength: 3 }).blocks).toBe(4);
    expect(blockBootstrapMean(new Array(9).fill(1), { ...options, blockLength: 3 }).blocks).toBe(3);
    expect(blockBootstrapMean(new Array(9).fill(1), { ...options, blockLength: 1 }).blocks).toBe(9);
  });

  it('all zeros: mean 0 and p = 1', () => {
    // every |m* − 0| ≥ |0| → p = (1 + 999)/(999 + 1) = 1
    expect(blockBootstrapMean(new Array(40).fill(0), options)).toEqual({ mean: 0, interval: { low: 0, high: 0 }, p_value: 1, blocks: 8 });
  });

  it('a clearly positive series: small p, interval above 0 and around the mean', () => {
    const random = mulberry32(11);
    const series = Array.from({ length: 200 }, () => 0.5 + gaussian(random));
    const result = blockBootstrapMean(series, options);
    expect(result.p_value).toBeLessThan(0.01);
    expect(result.interval.low).toBeGreaterThan(0);
    expect(result.interval.low).toBeLessThanOrEqual(result.mean);
    expect(result.interval.high).toBeGreaterThanOrEqual(result.mean);
  });

  it('rejects empty input and bad options', () => {
    expect(() => blockBootstrapMean([], options)).toThrow(RangeError);
    expect(() => blockBootstrapMean([1], { ...options, blockLength: 0 })).toThrow(RangeError);
    expect(() => blockBootstrapMean([1], { ...options, samples: 0 })).toThrow(RangeError);
  });
});

describe('reliabilityBins and expectedCalibrationError', () => {
  const prob = [0.1, 0.3, 0.5, 0.8, 1.0];
  const outcome = [0, 1, 1, 1, 0];

  it('5 predictions in 2 bins; 0.5 opens the upper bin and 1 stays in the last', () => {
    // [0, 0.5): 0.1, 0.3 → mean 0.2, frequency 1/2; [0.5, 1]: 0.5, 0.8, 1.0 → mean 2.3/3, frequency 2/3
    expect(reliabilityBins(prob, outcome, 2)).toEqual([
      { low: 0, high: 0.5, n: 2, mean_prob: expect.closeTo(0.2, 12), frequency: 0.5 },
      { low: 0.5, high: 1, n: 3, mean_prob: expect.closeTo(2.3 / 3, 12), frequency: 2 / 3 },
    ]);
    // ECE = 2/5·|0.5 − 0.2| + 3/5·|2/3 − 2.3/3| = 0.4·0.3 + 0.6·0.1 = 0.18
    expect(expectedCalibrationError(prob, outcome, 2)).toBeCloseTo(0.18, 12);
  });

  it('empty bins have n 0 and nulls', () => {
    // 5 bins: 0.1 | 0.3 | 0.5 | (none in [0.6, 0.8)) | 0.8, 1.0
    const bins = reliabilityBins(prob, outcome, 5);
    expect(bins.map((b) => b.n)).toEqual([1, 1, 1, 0, 2]);
    expect(bins[3]).toEqual({ low: 0.6, high: 0.8, n: 0, mean_prob: null, frequency: null });
    // ECE = 1/5·(|0 − 0.1| + |1 − 0.3| + |1 − 0.5|) + 2/5·|0.5 − 0.9| = 0.2·1.3 + 0.4·0.4 = 0.42
    expect(expectedCalibrationError(prob, outcome, 5)).toBeCloseTo(0.42, 12);
    expect(reliabilityBins([], []).every((b) => b.n === 0 && b.frequency === null)).toBe(true);
  });

  it('puts a probability just below an edge in the lower bin, although p·bins rounds up to the edge', () => {
    // 0.8999999999999999·10 rounds to 9, but 0.8999999999999999 < 0.9 = the low edge of bin 9
    expect(reliabilityBins([0.8999999999999999, 0.9], [0, 1]).map((b) => b.n)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
  });

  it('defaults to 10 bins; rejects bad input', () => {
    expect(reliabilityBins(prob, outcome)).toHaveLength(10);
    expect(() => reliabilityBins([1.2], [1])).toThrow(RangeError);
    expect(() => reliabilityBins([0.5], [1, 0])).toThrow(RangeError);
    expect(() => expectedCalibrationError([], [])).toThrow(RangeError);
  });
});

describe('fitIsotonic', () => {
  it('pools adjacent violators: outcomes 1,0,1,0,1 by p', () => {
    // (0.1:1) (0.2:0) violate → [0.1–0.2] = 0.5; (0.3:1) fine; (0.4:0) violates → [0.3–0.4] = 0.5, which does not
    // rise above [0.1–0.2] = 0.5 → [0.1–0.4] = 0.5; (0.5:1) fine. Thresholds: block ends 0.1, 0.4 and 0.5.
    expect(fitIsotonic([0.3, 0.1, 0.5, 0.2, 0.4], [1, 1, 1, 0, 0])).toEqual({ method: 'isotonic', x: [0.1, 0.4, 0.5], y: [0.5, 0.5, 1], n: 5 });
  });

  it('interpolates between thresholds and clips outside them', () => {
    // (0.1:0) (0.2:1) (0.3:0) (0.4:0) (0.5:1) (0.6:1): [0.2–0.3] = 0.5, then 0.4 → [0.2–0.4] = 1/3; [0.5–0.6] = 1
    const map = fitIsotonic([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [0, 1, 0, 0, 1, 1]);
    expect(map).toEqual({ method: 'isotonic', x: [0.1, 0.2, 0.4, 0.5, 0.6], y: [0, 1 / 3, 1 / 3, 1, 1], n: 6 });
    // 0.15: halfway from 0 to 1/3 = 1/6; 0.45: halfway from 1/3 to 1 = 2/3; 0.3 lies inside the flat block: 1/3
    expect(applyCalibration(map, 0.15)).toBeCloseTo(1 / 6, 12);
    expect(applyCalibration(map, 0.45)).toBeCloseTo(2 / 3, 12);
    expect(applyCalibration(map, 0.3)).toBeCloseTo(1 / 3, 12);
    // below 0.1 the value is 0 and above 0.6 it is 1 (clip), then floored to [0.01, 0.99]
    expect(applyCalibration(map, 0.02)).toBe(CALIBRATED_FLOOR);
    expect(applyCalibration(map, 0.95)).toBe(1 - CALIBRATED_FLOOR);
    // the first fit clips to its end value 0.5 below 0.1 rather than extrapolating
    expect(applyCalibration(fitIsotonic([0.1, 0.2, 0.3, 0.4, 0.5], [1, 0, 1, 0, 1]), 0)).toBe(0.5);
  });

  it('pools ties in prob before fitting', () => {
    // two rows at 0.3 with outcomes 0 and 1 become one point 0.5; 0.5 → 1. Without tie pooling 0.3 would get two values.
    const map = fitIsotonic([0.3, 0.5, 0.3], [0, 1, 1]);
    expect(map).toEqual({ method: 'isotonic', x: [0.3, 0.5], y: [0.5, 1], n: 3 });
    // 0.4: 0.5 + (0.4 − 0.3)/(0.5 − 0.3)·(1 − 0.5) = 0.75
    expect(applyCalibration(map, 0.4)).toBeCloseTo(0.75, 12);
  });

  it('one distinct input gives a constant map', () => {
    // three rows at 0.4 with outcomes 1, 0, 0 → 1/3 everywhere
    const map = fitIsotonic([0.4, 0.4, 0.4], [1, 0, 0]);
    expect(map).toEqual({ method: 'isotonic', x: [0.4], y: [1 / 3], n: 3 });
    expect(applyCalibration(map, 0.9)).toBeCloseTo(1 / 3, 12);
  });

  it('is monotone on noisy data and survives JSON', () => {
    const random = mulberry32(5);
    const prob = Array.from({ length: 500 }, () => Math.round(random() * 100) / 100);
    const outcome = prob.map((p) => (random() < p ? 1 : 0));
    const map = fitIsotonic(prob, outcome);
    if (map.method !== 'isotonic') throw new Error('expected an isotonic map');
    for (let i = 1; i < map.x.length; i++) {
      expect(map.x[i]!).toBeGreaterThan(map.x[i - 1]!);
      expect(map.y[i]!).toBeGreaterThanOrEqual(map.y[i - 1]!);
    }
    const stored = JSON.parse(JSON.stringify(map)) as CalibrationMap;
    expect(stored).toEqual(map);
    const grid = Array.from({ length: 101 }, (_, i) => i / 100);
    const calibrated = grid.map((p) => applyCalibration(stored, p));
    expect(calibrated).toEqual(grid.map((p) => applyCalibration(map, p)));
    for (let i = 1; i < calibrated.length; i++) expect(calibrated[i]!).toBeGreaterThanOrEqual(calibrated[i - 1]!);
  });

  it('rejects empty input and probabilities outside [0, 1]', () => {
    expect(() => fitIsotonic([], [])).toThrow(RangeError);
    expect(() => fitIsotonic([Number.NaN], [1])).toThrow(RangeError);
  });
});

describe('fitPlatt', () => {
  it('smoothed targets at a single input: a = 0, b = logit of the mean target', () => {
    // N+ = 3, N− = 1: t+ = 4/5, t− = 1/3; all logits 0, so only b matters: σ(b) = (3·4/5 + 1/3)/4 = 41/60
    // → b = ln(41/19) = 0.769133
    const map = fitPlatt([0.5, 0.5, 0.5, 0.5], [1, 1, 1, 0]);
    if (map.method !== 'platt') throw new Error('expected a Platt map');
    expect(map.a).toBeCloseTo(0, 9);
    expect(map.b).toBeCloseTo(0.769133, 6);
  });

  it('two inputs at logit ∓1: the fit passes through both mean targets', () => {
    // N+ = N− = 4: t+ = 5/6, t− = 1/6. At logit −1 (1 up, 3 down) the mean target is (5/6 + 3/6)/4 = 1/3,
    // at logit +1 (3 up, 1 down) it is (15/6 + 1/6)/4 = 2/3: −a + b = logit(1/3) = −ln 2, a + b = ln 2 → a = ln 2, b = 0
    const lo = logistic(-1);
    const hi = logistic(1);
    const map = fitPlatt([lo, lo, lo, lo, hi, hi, hi, hi], [1, 0, 0, 0, 1, 1, 1, 0]);
    if (map.method !== 'platt') throw new Error('expected a Platt map');
    expect(map.a).toBeCloseTo(Math.LN2, 6);
    expect(map.b).toBeCloseTo(0, 6);
    // applying it: σ(ln 2·logit(hi) + 0) = σ(ln 2) = 2/3
    expect(applyCalibration(map, hi)).toBeCloseTo(2 / 3, 6);
  });

  it('is monotone increasing when outcomes rise with p', () => {
    const random = mulberry32(9);
    const prob = Array.from({ length: 300 }, () => random());
    const outcome = prob.map((p) => (random() < p ? 1 : 0));
    const map = fitPlatt(prob, outcome);
    if (map.method !== 'platt') throw new Error('expected a Platt map');
    expect(map.a).toBeGreaterThan(0);
    const calibrated = Array.from({ length: 99 }, (_, i) => applyCalibration(map, (i + 1) / 100));
    for (let i = 1; i < calibrated.length; i++) expect(calibrated[i]!).toBeGreaterThanOrEqual(calibrated[i - 1]!);
  });

  it('recovers a and b of a logistic model within 0.05', () => {
    // y ~ Bernoulli(σ(1.7·logit(p) − 0.4)) with p uniform on (0.02, 0.98)
    const random = mulberry32(2024);
    const prob = Array.from({ length: 20_000 }, () => 0.02 + 0.96 * random());
    const outcome = prob.map((p) => (random() < logistic(1.7 * Math.log(p / (1 - p)) - 0.4) ? 1 : 0));
    const map = fitPlatt(prob, outcome);
    if (map.method !== 'platt') throw new Error('expected a Platt map');
    expect(Math.abs(map.a - 1.7)).toBeLessThan(0.05);
    expect(Math.abs(map.b + 0.4)).toBeLessThan(0.05);
    expect(JSON.parse(JSON.stringify(map))).toEqual(map);
  });

  it('stays finite on separable data and at p = 0 or 1', () => {
    // inputs clipped to [1e-6, 1 − 1e-6]; smoothed targets keep the optimum finite
    const map = fitPlatt([0, 0.2, 0.8, 1], [0, 0, 1, 1]);
    if (map.method !== 'platt') throw new Error('expected a Platt map');
    expect(Number.isFinite(map.a) && Number.isFinite(map.b)).toBe(true);
    expect(map.a).toBeGreaterThan(0);
  });
});

describe('fitCalibration and applyCalibration', () => {
  const random = mulberry32(17);
  const prob = Array.from({ length: 150 }, () => random());
  const outcome = prob.map((p) => (random() < p ? 1 : 0));

  it("'none' and too few rows give the identity map", () => {
    expect(fitCalibration('none', prob, outcome)).toEqual({ method: 'none', n: 150 });
    expect(fitCalibration('isotonic', prob.slice(0, 99), outcome.slice(0, 99))).toEqual({ method: 'none', n: 99 });
    expect(fitCalibration('platt', prob.slice(0, 99), outcome.slice(0, 99))).toEqual({ method: 'none', n: 99 });
    expect(fitCalibration('isotonic', [], [])).toEqual({ method: 'none', n: 0 });
  });

  it('fits by method from minSamples rows on', () => {
    expect(fitCalibration('isotonic', prob.slice(0, 100), outcome.slice(0, 100))).toEqual(fitIsotonic(prob.slice(0, 100), outcome.slice(0, 100)));
    expect(fitCalibration('platt', prob, outcome)).toEqual(fitPlatt(prob, outcome));
    expect(fitCalibration('platt', prob.slice(0, 5), outcome.slice(0, 5), 5).method).toBe('platt');
    expect(() => fitCalibration('none', [0.5], [1, 0])).toThrow(RangeError);
  });

  it('clips every method to [0.01, 0.99]', () => {
    const none: CalibrationMap = { method: 'none', n: 0 };
    expect(applyCalibration(none, 0.5)).toBe(0.5);
    expect(applyCalibration(none, 0)).toBe(0.01);
    expect(applyCalibration(none, 0.999)).toBe(0.99);
    // σ(1·logit(0.3) + 0) = 0.3; σ(logit(0.5) + 10) = σ(10) = 0.99995 → 0.99; σ(−10) → 0.01
    expect(applyCalibration({ method: 'platt', a: 1, b: 0, n: 1 }, 0.3)).toBeCloseTo(0.3, 12);
    expect(applyCalibration({ method: 'platt', a: 1, b: 10, n: 1 }, 0.5)).toBe(0.99);
    expect(applyCalibration({ method: 'platt', a: 1, b: -10, n: 1 }, 0.5)).toBe(0.01);
    // isotonic 0 → 1 over [0.2, 0.8]: at 0.205 it is 0.005/0.6 = 0.0083 → 0.01
    expect(applyCalibration({ method: 'isotonic', x: [0.2, 0.8], y: [0, 1], n: 2 }, 0.205)).toBe(0.01);
  });

  it('rejects a probability outside [0, 1] and an unknown method', () => {
    expect(() => applyCalibration({ method: 'none', n: 0 }, 1.5)).toThrow(RangeError);
    expect(() => applyCalibration(JSON.parse('{"method":"beta","n":3}') as CalibrationMap, 0.5)).toThrow(RangeError);
  });
});

describe('conformalBounds', () => {
  it('residuals 1..19 at coverage 0.8', () => {
    // α = 0.2; k_lo = floor(20·0.1) = 2 → lower 2; k_hi = ceil(20·0.9) = 18 → upper 18
    const residuals = [7, 19, 3, 1, 12, 18, 5, 10, 2, 16, 9, 14, 4, 17, 6, 11, 13, 8, 15];
    const copy = [...residuals];
    expect(conformalBounds(residuals, 0.8)).toEqual({ coverage: 0.8, lower: 2, upper: 18, n: 19 });
    expect(residuals).toEqual(copy);
  });

  it('guards floor and ceil against floating-point error', () => {
    // 1 − 0.8 = 0.19999999999999996, so 20·α/2 = 1.9999999999999996: a bare floor would give k_lo = 1 (lower 1).
    // Likewise 1 − 0.9 = 0.09999999999999998 and 100·α/2 = 4.999999999999999 must give k_lo = 5, not 4.
    const residuals = Array.from({ length: 99 }, (_, i) => i + 1);
    // n = 99, α = 0.1: k_lo = floor(100·0.05) = 5, k_hi = ceil(100·0.95) = 95
    expect(conformalBounds(residuals, 0.9)).toEqual({ coverage: 0.9, lower: 5, upper: 95, n: 99 });
  });

  it('null when there are too few residuals for the coverage', () => {
    // n = 8, α = 0.2: k_lo = floor(9·0.1) = 0
    expect(conformalBounds([1, 2, 3, 4, 5, 6, 7, 8], 0.8)).toBeNull();
    // n = 9: k_lo = floor(10·0.1) = 1, k_hi = ceil(10·0.9) = 9 → the extremes
    expect(conformalBounds([1, 2, 3, 4, 5, 6, 7, 8, 9], 0.8)).toEqual({ coverage: 0.8, lower: 1, upper: 9, n: 9 });
    expect(conformalBounds([], 0.5)).toBeNull();
  });

  it('rejects a coverage outside (0, 1)', () => {
    for (const coverage of [0, 1, 1.2, -0.1, Number.NaN]) expect(() => conformalBounds([1, 2, 3], coverage)).toThrow(RangeError);
  });

  it('covers about 80% of 1,000 new exchangeable draws when calibrated on 1,000', () => {
    const random = mulberry32(31);
    const rows = Array.from({ length: 2000 }, () => {
      const predicted = gaussian(random);
      return { predicted, actual: 0.5 * predicted + gaussian(random) };
    });
    const bounds = conformalBounds(
      rows.slice(0, 1000).map((r) => r.actual - r.predicted),
      0.8,
    );
    if (bounds === null) throw new Error('expected bounds');
    const test = rows.slice(1000);
    const covered = test.filter((r) => r.actual >= r.predicted + bounds.lower && r.actual <= r.predicted + bounds.upper).length;
    expect(covered / test.length).toBeGreaterThanOrEqual(0.77);
    expect(covered / test.length).toBeLessThanOrEqual(0.83);
  });
});

describe('auc', () => {
  it('the share of (up, down) pairs ranked right', () => {
    // Ups scored 0.9 and 0.7; downs 0.8, 0.6, 0.5. 0.9 beats all three, 0.7 beats 0.6 and 0.5, loses to 0.8: 5 of 6 pairs.
    expect(auc([0.9, 0.8, 0.7, 0.6, 0.5], [1, 0, 1, 0, 0])).toBeCloseTo(5 / 6, 12);
    // A tie between an up and a down counts ½: up 0.6 vs down 0.6 → (1 + ½) / 2 with the other pair won.
    expect(auc([0.6, 0.6, 0.2], [1, 0, 0])).toBeCloseTo(1.5 / 2, 12);
    expect(auc([0.1, 0.9], [1, 0])).toBe(0);
  });

  it('null when every outcome is the same', () => {
    expect(auc([0.1, 0.9], [1, 1])).toBeNull();
    expect(auc([], [])).toBeNull();
  });
});

describe('blockBootstrapAuc', () => {
  const options = { blockLength: 5, samples: 999, seed: 3 };
  const outcomes = Array.from({ length: 100 }, (_, i) => (i % 5 < 3 ? 1 : 0));

  it('a score that separates every block perfectly: AUC 1, every resample above ½, p = 1/(B + 1)', () => {
    const result = blockBootstrapAuc(outcomes.map((o) => (o ? 0.8 : 0.2)), outcomes, options)!;
    expect(result).toEqual({ auc: 1, interval: { low: 1, high: 1 }, p_value: 1 / 1000 });
  });

  it('a score unrelated to the outcome: AUC near ½ and a large p; deterministic in the seed', () => {
    const random = mulberry32(11);
    const scores = outcomes.map(() => random());
    const result = blockBootstrapAuc(scores, outcomes, options)!;
    expect(result.auc).toBe(auc(scores, outcomes));
    expect(result.p_value).toBeGreaterThan(0.05);
    expect(result.interval.low).toBeLessThan(0.5);
    expect(blockBootstrapAuc(scores, outcomes, options)).toEqual(result);
  });

  it('null without both outcomes', () => {
    expect(blockBootstrapAuc([0.2, 0.3], [1, 1], options)).toBeNull();
  });

  it('reads a resample’s AUC off the global order, ties included: one block is the series itself every time', () => {
    // Scores with ties across classes; a single block of all 12 sessions makes every resample the series.
    const scores = [0.3, 0.7, 0.5, 0.5, 0.9, 0.1, 0.7, 0.3, 0.5, 0.2, 0.8, 0.7];
    const ups = [0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 0];
    const whole = blockBootstrapAuc(scores, ups, { blockLength: 12, samples: 50, seed: 1 })!;
    expect(whole.interval.low).toBeCloseTo(auc(scores, ups)!, 12);
    expect(whole.interval.high).toBeCloseTo(auc(scores, ups)!, 12);
  });
});

describe('rankMatchedCalibration', () => {
  // The parent's map doubles the distance from ½, clipped: 0.4 → 0.3, 0.5 → 0.5, 0.6 → 0.7 (an isotonic map through those points).
  const parent: CalibrationMap = { method: 'isotonic', x: [0.4, 0.5, 0.6], y: [0.3, 0.5, 0.7], n: 100 };

  it('gives the child’s k-th lowest output the parent’s k-th lowest calibrated value', () => {
    // Parent raw on four windows: 0.45, 0.5, 0.55, 0.6 → calibrated 0.4, 0.5, 0.6, 0.7 (interpolated).
    // The fine-tuned child is more extreme and re-ranks: 0.2, 0.9, 0.3, 0.8 → ascending 0.2, 0.3, 0.8, 0.9.
    const map = rankMatchedCalibration(parent, [0.45, 0.5, 0.55, 0.6], [0.2, 0.9, 0.3, 0.8]);
    expect(map).toMatchObject({ method: 'isotonic', n: 4, x: [0.2, 0.3, 0.8, 0.9] });
    const { y } = map as { y: number[] };
    [0.4, 0.5, 0.6, 0.7].forEach((v, k) => expect(y[k]).toBeCloseTo(v, 12));
    // So the child's 0.9 is served as 0.7, not as the parent map's clipped 0.99.
    expect(applyCalibration(map, 0.9)).toBeCloseTo(0.7, 12);
    expect(applyCalibration(parent, 0.9)).toBe(0.7); // the parent map clips at its last threshold too, but a raw 0.9 was never its to see
  });

  it('averages the values of tied child outputs, and keeps a parent without a map without one', () => {
    const map = rankMatchedCalibration(parent, [0.4, 0.6], [0.7, 0.7]) as { x: number[]; y: number[] };
    expect(map.x).toEqual([0.7]);
    expect(map.y[0]).toBeCloseTo(0.5, 12); // (0.3 + 0.7) / 2
    expect(rankMatchedCalibration({ method: 'none', n: 0 }, [0.4], [0.6])).toEqual({ method: 'none', n: 1 });
  });
});
