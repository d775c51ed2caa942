import { describe, expect, it } from 'vitest';
import { holdoutSplit, timeSeriesSplit } from '../plugin/training/splits.js';
import { cvScore, evaluate, f1Score } from '../plugin/training/metrics.js';
import { decideDeployment } from '../plugin/training/deploy-rule.js';

/** Inclusive integer span, to write index lists compactly. */
const span = (first: number, last: number) => Array.from({ length: last - first + 1 }, (_, i) => first + i);

describe('timeSeriesSplit', () => {
  it('equals scikit-learn TimeSeriesSplit(n_splits=5) on 100 samples', () => {
    // >>> [(tr[[0, -1]], te[[0, -1]]) for tr, te in TimeSeriesSplit(n_splits=5).split(range(100))]
    expect(timeSeriesSplit(100, { nSplits: 5 })).toEqual([
      { train: span(0, 19), test: span(20, 35) },
      { train: span(0, 35), test: span(36, 51) },
      { train: span(0, 51), test: span(52, 67) },
      { train: span(0, 67), test: span(68, 83) },
      { train: span(0, 83), test: span(84, 99) },
    ]);
  });

  it('equals scikit-learn TimeSeriesSplit(n_splits=5, gap=5): the purge drops the 5 samples before each test fold', () => {
    expect(timeSeriesSplit(100, { nSplits: 5, gap: 5 })).toEqual([
      { train: span(0, 14), test: span(20, 35) },
      { train: span(0, 30), test: span(36, 51) },
      { train: span(0, 46), test: span(52, 67) },
      { train: span(0, 62), test: span(68, 83) },
      { train: span(0, 78), test: span(84, 99) },
    ]);
  });

  it('puts the remainder in the first training window (n=103, 3 splits)', () => {
    // test_size = 103 // 4 = 25; test starts 28, 53, 78
    expect(timeSeriesSplit(103, { nSplits: 3 }).map((s) => [s.train.at(-1), s.test[0], s.test.at(-1)])).toEqual([
      [27, 28, 52],
      [52, 53, 77],
      [77, 78, 102],
    ]);
  });

  it('refuses impossible splits', () => {
    expect(() => timeSeriesSplit(5, { nSplits: 5 })).toThrow('cannot make 5 splits of 5 samples');
    expect(() => timeSeriesSplit(12, { nSplits: 5, gap: 5 })).toThrow('too few samples (12) for 5 splits of 2 with gap 5');
  });
});

describe('holdoutSplit', () => {
  it('keeps the last samples out and purges the gap before them', () => {
    expect(holdoutSplit(100, 10, 5)).toEqual({ train: span(0, 84), test: span(90, 99) });
    expect(() => holdoutSplit(15, 10, 5)).toThrow('too few samples (15) for a holdout of 10 with gap 5');
  });
});

describe('metrics', () => {
  it('computes every metric as its definition says, checked by hand', () => {
    const m = evaluate({
      actualDirection: [1, 1, 0, 0, 1, 0],
      predictedDirection: [1, 0, 0, 1, 1, 1],
      actualReturn: [0.02, 0.01, -0.03, -0.01, 0.04, -0.02],
      predictedReturn: [0.01, -0.01, -0.01, 0.02, 0.01, 0.0],
    });
    // TP = 2 (i0, i4), FP = 2 (i3, i5), FN = 1 (i1), TN = 1 → accuracy 3/6, F1 = 4 / (4 + 2 + 1)
    // errors: -0.01, -0.02, 0.02, 0.03, -0.03, 0.02 → squares sum 0.0031, |e| sum 0.13
    // sign(pred) > 0: [1, 0, 0, 1, 1, 0] vs actual [1, 1, 0, 0, 1, 0] → 4 / 6
    expect(m.n).toBe(6);
    expect(m.accuracy).toBeCloseTo(0.5, 15);
    expect(m.f1).toBeCloseTo(4 / 7, 15);
    expect(m.mse).toBeCloseTo(0.0031 / 6, 15);
    expect(m.mae).toBeCloseTo(0.13 / 6, 15);
    expect(m.rmse).toBeCloseTo(Math.sqrt(0.0031 / 6), 15);
    expect(m.direction_accuracy).toBeCloseTo(4 / 6, 15);
  });

  it('gives F1 0 when there are no positives at all, like scikit-learn with zero_division=0', () => {
    expect(f1Score([0, 0, 0], [0, 0, 0])).toBe(0);
    expect(f1Score([1, 1, 0], [0, 0, 0])).toBe(0);
    expect(f1Score([1, 1, 0], [1, 1, 0])).toBe(1);
  });

  it('refuses mismatched lengths', () => {
    expect(() => evaluate({ actualDirection: [1, 0], predictedDirection: [1], actualReturn: [0, 0], predictedReturn: [0, 0] })).toThrow(
      'predictedDirection has 1 values, expected 2',
    );
  });

  it('scores a CV result as avg_f1 − 0.1·log1p(avg_mse)', () => {
    expect(cvScore(0.6, 0.002)).toBeCloseTo(0.6 - 0.1 * Math.log(1.002), 15);
  });
});

describe('deploy rule', () => {
  const current = { f1: 0.5, mse: 0.001 };
  it.each([
    ['first model', { f1: 0.1, mse: 1 }, undefined, true, /^first model for this symbol$/],
    ['F1 gain exactly 0.05', { f1: 0.55, mse: 0.001 }, current, true, /^F1 improved: F1 0\.55 vs 0\.5 \(gain 0\.05/],
    ['F1 gain 0.0499', { f1: 0.5499, mse: 0.001 }, current, false, /^not better than the current model/],
    ['MSE exactly 0.9 × current', { f1: 0.5, mse: 0.0009 }, current, true, /^MSE improved: MSE 0\.0009 vs 0\.001/],
    ['MSE 0.91 × current', { f1: 0.5, mse: 0.00091 }, current, false, /^not better/],
    ['both improve', { f1: 0.6, mse: 0.0005 }, current, true, /^both improved/],
    ['both fail (worse F1, worse MSE)', { f1: 0.4, mse: 0.002 }, current, false, /needs ≥ 0\.05.*needs ≤ 0\.0009 = 0\.9 × current/],
  ])('%s', (_name, candidate, old, deploy, reason) => {
    const decision = decideDeployment(candidate, old);
    expect(decision.deploy).toBe(deploy);
    expect(decision.reason).toMatch(reason);
  });

  it('honours configured thresholds', () => {
    expect(decideDeployment({ f1: 0.52, mse: 0.001 }, current, { minF1Improvement: 0.01, minMseRatio: 0.5 }).deploy).toBe(true);
    expect(decideDeployment({ f1: 0.5, mse: 0.0009 }, current, { minF1Improvement: 0.01, minMseRatio: 0.5 }).deploy).toBe(false);
  });
});
