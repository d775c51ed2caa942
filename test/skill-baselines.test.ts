import { describe, expect, it } from 'vitest';
import type { DailyBar } from '../plugin/index.js';
import { ArimaForecaster } from '../plugin/forecasting/arima-forecaster.js';
import { BaseRateForecaster } from '../plugin/forecasting/base-rate-forecaster.js';
import { TechnicalForecaster } from '../plugin/forecasting/technical-forecaster.js';
import { baselineForecasts, baselinesAt, fitBaselines, majorityForecast } from '../plugin/skill/baselines.js';
import { dissimilarity, dissimilarityReference } from '../plugin/skill/dissimilarity.js';
import { outcomesAt } from '../plugin/skill/measure.js';
import { skillTable, skillVerdict, type ForecastSeries } from '../plugin/skill/skill-table.js';
import { spxBars } from './support/spx.js';

const bar = (date: string, close: number): DailyBar => ({ symbol: 'T', date, open: close, high: close, low: close, close, volume: 1000 });

describe('fitBaselines on hand-made closes', () => {
  // 30 closes, t = 0..29: up 1, down 1, up 2, down 1, up 2, … — a zig-zag that climbs.
  const closes = [100, 101, 100, 102, 101, 103, 102, 104, 103, 105, 104, 106, 105, 107, 106, 108, 107, 109, 108, 110, 109, 111, 110, 112, 111, 113, 112, 114, 113, 115];

  it('base rate, mean return and the rules’ smoothed up-rates of the training rows', () => {
    // Training rows t = 20..24 (labels close[t+5] known): close[25..29] = 113,112,114,113,115 against close[20..24] = 109,111,110,112,111 → all up.
    const fit = fitBaselines(closes, [20, 21, 22, 23, 24]);
    expect(fit.n).toBe(5);
    expect(fit.base_rate).toBe(1);
    // mean of 113/109, 112/111, 114/110, 113/112, 115/111 − 1
    expect(fit.mean_return).toBeCloseTo((113 / 109 + 112 / 111 + 114 / 110 + 113 / 112 + 115 / 111) / 5 - 1, 12);
    // 5-session returns at t = 20..24: 109/108, 111/107, 110/109, 112/108, 111/110 (close[15..19]): five rises, all up.
    // Laplace: after a rise (5 + 1) / (5 + 2) = 6/7; after a fall (0 + 1)/(0 + 2) = 1/2.
    expect(fit.momentum).toEqual({ after_rise: 6 / 7, after_fall: 0.5 });
    // 20-session returns at t = 20..24 against close[0..4] = 100, 101, 100, 102, 101: five rises → the same counts.
    expect(fit.reversion).toEqual({ after_rise: 6 / 7, after_fall: 0.5 });
  });

  it('counts rows without the 20 sessions of history for the base rate only', () => {
    // t = 10: 5-session return exists (close[5] = 103 → 104/103 > 0), 20-session does not; label close[15] = 108 > 104 → up.
    const fit = fitBaselines(closes, [10]);
    expect(fit.momentum).toEqual({ after_rise: 2 / 3, after_fall: 0.5 });
    expect(fit.reversion).toEqual({ after_rise: 0.5, after_fall: 0.5 });
  });

  it('refuses a training row without a label', () => {
    expect(() => fitBaselines(closes, [25])).toThrow('training row 25 has no label: bar 30 does not exist');
  });
});

describe('baselines on the real S&P 500', async () => {
  const bars = await spxBars();
  const t = bars.findIndex((b) => b.date === '2019-06-28');
  const trainIndices = Array.from({ length: 1000 }, (_, k) => t - 5 - 999 + k);
  const fit = fitBaselines(bars.map((b) => b.close), trainIndices);

  it('each rule’s direction is its definition, its probability the fitted rate', async () => {
    const [majority, momentum, reversion, technical] = await baselineForecasts(bars, [t], fit, { arima: false });
    const r5 = bars[t]!.close / bars[t - 5]!.close - 1;
    const r20 = bars[t]!.close / bars[t - 20]!.close - 1;
    expect(majority!.forecasts[0]).toEqual(majorityForecast(fit));
    expect(momentum!.forecasts[0]).toEqual({ prob_up: r5 > 0 ? fit.momentum.after_rise : fit.momentum.after_fall, direction: r5 > 0 ? 1 : 0, expected_return: r5 });
    expect(reversion!.forecasts[0]).toEqual({ prob_up: r20 > 0 ? fit.reversion.after_rise : fit.reversion.after_fall, direction: r20 < 0 ? 1 : 0, expected_return: (-r20 * 5) / 20 });
    // The technical baseline is the fallback tier itself at that session.
    const tier = await new TechnicalForecaster().forecast({ symbol: 'SPX', bars: bars.slice(0, t + 1), asOf: bars[t]!.date });
    expect(technical!.forecasts[0]).toEqual({ prob_up: tier.probUp, direction: tier.direction, expected_return: tier.magnitude });
  });

  it('ARIMA is the fallback tier where it answers and the majority forecast where it declines', async () => {
    const sessions = [t, t + 1, t + 2, t + 3, t + 4, t + 5];
    const series = (await baselineForecasts(bars, sessions, fit, { arima: true })).find((s) => s.name === 'arima')!;
    let answered = 0;
    for (const [k, i] of sessions.entries()) {
      const window = bars.slice(i + 1 - 250, i + 1);
      const tier = await new ArimaForecaster().forecast({ symbol: 'SPX', bars: window, asOf: bars[i]!.date }).catch(() => null);
      if (tier) answered++;
      expect(series.forecasts[k]).toEqual(tier ? { prob_up: tier.probUp, direction: tier.direction, expected_return: tier.magnitude } : majorityForecast(fit));
    }
    expect(series.answered).toBe(answered);
  });

  it('baselinesAt reads no bar after its session, and its majority is the base-rate tier', async () => {
    const at = await baselinesAt(bars, t, { arima: true });
    const poisoned = bars.map((b, i) => (i > t ? { ...b, close: b.close * 3, high: b.high * 3, low: b.low * 3, open: b.open * 3 } : b));
    expect(await baselinesAt(poisoned, t, { arima: true })).toEqual(at);
    const tier = await new BaseRateForecaster().forecast({ symbol: 'SPX', bars: bars.slice(0, t + 1), asOf: bars[t]!.date });
    expect(at!.majority!.prob_up).toBeCloseTo(tier.probUp, 12);
    expect(Object.keys(at!)).toEqual(['majority', 'momentum_5', 'mean_reversion_20', 'technical', 'arima']);
  });

  it('no move has completed before the fifth session: no baselines', async () => {
    expect(await baselinesAt(bars, 4, { arima: true })).toBeNull();
  });
});

describe('outcomesAt', () => {
  it('is the close FORECAST_DAYS sessions later, and refuses one not known yet', () => {
    const bars = [100, 101, 99, 102, 98, 97, 103].map((c, i) => bar(`2024-01-0${i + 1}`, c));
    expect(outcomesAt(bars, [0, 1])).toEqual([
      { date: '2024-01-01', direction: 0, return: 97 / 100 - 1 },
      { date: '2024-01-02', direction: 1, return: 103 / 101 - 1 },
    ]);
    expect(() => outcomesAt(bars, [2])).toThrow('T 2024-01-03: no bar 5 sessions later');
  });
});

describe('skillTable against hand-computed values', () => {
  // 8 sessions: outcomes up, up, down, up, down, up, up, down (5 up of 8).
  const directions = [1, 1, 0, 1, 0, 1, 1, 0];
  const returns = [0.02, 0.01, -0.01, 0.03, -0.02, 0.005, 0.015, -0.03];
  const outcomes = directions.map((direction, i) => ({ date: `2024-02-0${i + 1}`, direction, return: returns[i]! }));
  const series = (name: string, probs: number[], expected: number[] = probs): ForecastSeries => ({
    name,
    forecasts: probs.map((p, i) => ({ prob_up: p, direction: p > 0.5 ? 1 : 0, expected_return: expected[i]! })),
  });
  const subject = series('lstm', [0.7, 0.6, 0.3, 0.8, 0.4, 0.6, 0.4, 0.2], [0.02, 0.01, -0.01, 0.025, -0.01, 0.0, -0.005, -0.02]);
  const majority = series('majority', Array(8).fill(0.6));
  const table = skillTable('holdout', subject, [majority], outcomes);

  it('hit rate, Brier, Brier skill against the majority’s 0.6, log loss and IC', () => {
    // Subject directions 1,1,0,1,0,1,0,0: wrong only at session 7 (said down, went up) → 7 of 8.
    expect(table.subject).toMatchObject({ n: 8, hits: 7, hit_rate: 7 / 8 });
    // Brier: (0.3² + 0.4² + 0.3² + 0.2² + 0.4² + 0.4² + 0.6² + 0.2²)/8 = (0.09+0.16+0.09+0.04+0.16+0.16+0.36+0.04)/8 = 1.10/8 = 0.1375
    expect(table.subject.brier).toBeCloseTo(0.1375, 12);
    // Reference: 0.6 on 5 ups (0.16 each) and 3 downs (0.36 each) = (0.8 + 1.08)/8 = 0.235 → BSS = 1 − 0.1375/0.235 = 0.414894
    expect(table.subject.brier_skill).toBeCloseTo(1 - 0.1375 / 0.235, 12);
    // Log loss: −(ln .7 + ln .6 + ln .7 + ln .8 + ln .6 + ln .6 + ln .4 + ln .8)/8
    const ll = -(Math.log(0.7) * 2 + Math.log(0.6) * 3 + Math.log(0.8) * 2 + Math.log(0.4)) / 8;
    expect(table.subject.log_loss).toBeCloseTo(ll, 12);
    // Ranks of expected: 0.02→7, 0.01→6, −0.01→2.5 (tie with −0.01), 0.025→8, −0.01→2.5, 0→5, −0.005→4, −0.02→1
    // Ranks of realised: 0.02→7, 0.01→5, −0.01→3, 0.03→8, −0.02→2, 0.005→4, 0.015→6, −0.03→1. Pearson of the ranks:
    const rx = [7, 6, 2.5, 8, 2.5, 5, 4, 1];
    const ry = [7, 5, 3, 8, 2, 4, 6, 1];
    const m = 4.5;
    const cov = rx.reduce((s, x, i) => s + (x - m) * (ry[i]! - m), 0);
    const sx = Math.sqrt(rx.reduce((s, x) => s + (x - m) ** 2, 0));
    const sy = Math.sqrt(ry.reduce((s, y) => s + (y - m) ** 2, 0));
    expect(table.subject.ic).toBeCloseTo(cov / (sx * sy), 12);
    expect(table.reference_base_rate).toBe(0.6);
    expect(table.up_rate).toBe(5 / 8);
  });

  it('pairs the subject with each baseline on the same sessions', () => {
    // The majority says up every time: right on the 5 ups. Subject right & majority wrong: sessions 3, 5, 8 (the downs) = 3;
    // majority right & subject wrong: session 7 = 1.
    expect(table.paired[0]!.mcnemar).toMatchObject({ b: 3, c: 1 });
    // Per-session Brier differences; their mean is 0.1375 − 0.235.
    expect(table.paired[0]!.brier_difference.mean).toBeCloseTo(0.1375 - 0.235, 12);
    expect(table.best_baseline).toEqual({ name: 'majority', hit_rate: 5 / 8, hit_rate_interval: table.baselines[0]!.hit_rate_interval });
  });

  it('AUC of P(up): the share of (up, down) pairs the subject ranked right, ties counting half', () => {
    // Ups scored 0.7, 0.6, 0.8, 0.6, 0.4; downs 0.3, 0.4, 0.2. Pairs (15): 0.4 vs 0.4 is a tie (½); every other up is above every down.
    // → (14 + 0.5) / 15.
    expect(table.subject.discrimination!.auc).toBeCloseTo(14.5 / 15, 12);
    expect(table.baselines[0]!.discrimination!.auc).toBe(0.5); // a constant tells nothing apart
  });

  it('needs the majority baseline and aligned series', () => {
    expect(() => skillTable('x', subject, [series('momentum_5', Array(8).fill(0.5))], outcomes)).toThrow('the majority baseline (the reference) is missing');
    expect(() => skillTable('x', subject, [series('majority', [0.6])], outcomes)).toThrow('majority has 1 forecasts for 8 sessions');
  });
});

describe('skillVerdict', () => {
  const n = 200;
  const outcomes = Array.from({ length: n }, (_, i) => ({ date: `d${String(i).padStart(3, '0')}`, direction: i % 5 < 3 ? 1 : 0, return: i % 5 < 3 ? 0.01 : -0.01 }));
  const majority = { name: 'majority', forecasts: outcomes.map(() => ({ prob_up: 0.6, direction: 1, expected_return: 0.002 })) };
  const gate = { minSkill: 0, alpha: 0.05 };
  const good = { name: 'lstm', forecasts: outcomes.map((o) => ({ prob_up: o.direction ? 0.8 : 0.2, direction: o.direction, expected_return: o.return })) };

  it('passes a forecaster that knows the outcome well, with the evidence in the reason', () => {
    const verdict = skillVerdict(skillTable('holdout', good, [majority], outcomes), gate);
    expect(verdict.passed).toBe(true);
    // One-sided p of the AUC: no resample is at or below ½, so p = 1/(2000 + 1).
    expect(verdict.reason).toMatch(
      /^shown skill: holdout d000\.\.d199: hit 100\.0% \[98\.1%, 100\.0%\] of 200 vs best baseline majority 60\.0% \[53\.1%, 66\.5%\]; Brier skill \+0\.833 .*; discrimination on holdout \(200 sessions\): AUC 1\.000 \[1\.000, 1\.000\], p 0\.00050; not significantly below majority/,
    );
  });

  it('refuses the base rate itself (no improvement, no discrimination) and a forecaster worse than it', () => {
    const same = { name: 'lstm', forecasts: majority.forecasts };
    const verdict = skillVerdict(skillTable('holdout', same, [majority], outcomes), gate);
    expect(verdict.passed).toBe(false);
    expect(verdict.reason).toMatch(/^no skill shown: Brier skill \+0\.000 is not above 0; P\(up\) does not tell up from down beyond chance on holdout \(200 sessions\): AUC 0\.500/);
    const bad = { name: 'lstm', forecasts: outcomes.map((o) => ({ prob_up: o.direction ? 0.4 : 0.6, direction: 1 - o.direction, expected_return: -o.return })) };
    expect(skillVerdict(skillTable('holdout', bad, [majority], outcomes), gate).reason).toContain('hit rate significantly below majority');
  });

  it('refuses a Brier skill that comes from the base rate drifting, not from telling sessions apart', () => {
    // The sessions rose 60% of the time against a training base rate of 0.5: a constant 0.6 scores a positive Brier skill.
    const drifted = { name: 'majority', forecasts: outcomes.map(() => ({ prob_up: 0.5, direction: 0, expected_return: 0 })) };
    const constant = { name: 'lstm', forecasts: outcomes.map(() => ({ prob_up: 0.6, direction: 1, expected_return: 0 })) };
    const table = skillTable('holdout', constant, [drifted], outcomes);
    expect(table.subject.brier_skill).toBeCloseTo(1 - 0.24 / 0.25, 12); // 0.6·0.16 + 0.4·0.36 = 0.24 against 0.25
    expect(skillVerdict(table, gate)).toMatchObject({ passed: false, reason: expect.stringContaining('P(up) does not tell up from down beyond chance on holdout (200 sessions): AUC 0.500') });
  });

  it('judges discrimination on the evidence given (the out-of-fold rows), and still wants an AUC above ½ on the holdout', () => {
    const table = skillTable('holdout', good, [majority], outcomes);
    const blind = skillTable('out_of_fold', { name: 'lstm (raw)', forecasts: majority.forecasts }, [majority], outcomes).subject;
    expect(skillVerdict(table, gate, { sample: 'out_of_fold', skill: blind }).reason).toMatch(/P\(up\) does not tell up from down beyond chance on out_of_fold \(200 sessions\): AUC 0\.500/);
    const sharp = skillTable('out_of_fold', good, [majority], outcomes).subject;
    expect(skillVerdict(table, gate, { sample: 'out_of_fold', skill: sharp }).passed).toBe(true);
    // Discriminating out of fold, but backwards on the holdout.
    const reversed = skillTable('holdout', { name: 'lstm', forecasts: good.forecasts.map((f) => ({ ...f, prob_up: f.prob_up === 0.8 ? 0.58 : 0.62 })) }, [majority], outcomes);
    expect(skillVerdict(reversed, gate, { sample: 'out_of_fold', skill: sharp }).reason).toContain('on the holdout P(up) ranks no better than chance (AUC 0.000)');
  });

  it('needs a holdout of ten 5-session blocks, and evidence of ten 20-session blocks for discrimination', () => {
    const short = (k: number) => skillTable('holdout', { ...good, forecasts: good.forecasts.slice(0, k) }, [{ ...majority, forecasts: majority.forecasts.slice(0, k) }], outcomes.slice(0, k));
    const outOfFold = { sample: 'out_of_fold', skill: skillTable('out_of_fold', good, [majority], outcomes).subject };
    expect(skillVerdict(short(49), gate, outOfFold).reason).toMatch(/^no skill shown: 49 sessions are too few to show skill \(needs 50\)/);
    expect(skillVerdict(short(50), gate, outOfFold).passed).toBe(true);
    // Without out-of-fold rows the holdout is its own evidence: 199 sessions cannot show discrimination, whatever the AUC.
    expect(skillVerdict(short(199), gate).reason).toContain('holdout has 199 sessions, too few to show discrimination (needs 200: ten 20-session blocks)');
    expect(skillVerdict(short(200), gate).passed).toBe(true);
  });
});

describe('dissimilarity', () => {
  it('nearest reference row over the mean distance between reference rows', () => {
    // Rows (0,0), (3,0), (0,4): distances 3, 4, 5 → mean 4.
    const reference = dissimilarityReference([[0, 0], [3, 0], [0, 4]]);
    expect(reference.mean_distance).toBe(4);
    expect(dissimilarity([0, 0], reference)).toBe(0);
    // (6, 0) is 3 from (3,0): 3/4.
    expect(dissimilarity([6, 0], reference)).toBe(0.75);
  });

  it('subsamples evenly to at most maxRows and rounds to 4 decimals', () => {
    const rows = Array.from({ length: 10 }, (_, i) => [i + 0.123456]);
    const reference = dissimilarityReference(rows, 4);
    // step 10/4 = 2.5: rows floor(0), floor(2.5), floor(5), floor(7.5) = 0, 2, 5, 7.
    expect(reference.rows).toEqual([[0.1235], [2.1235], [5.1235], [7.1235]]);
  });
});
