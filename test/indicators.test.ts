import { describe, expect, it } from 'vitest';
import { spxBars } from './support/spx.js';
import type { DailyBar } from '../plugin/bar.js';
import {
  aroon,
  averageTrueRange,
  bollingerBands,
  macdHistogram,
  moneyFlowIndex,
  onBalanceVolume,
  rsi,
  sma,
  volatility,
} from '../plugin/features/indicators.js';

const bars = await spxBars();
const close = bars.map((b) => b.close);
const volume = bars.map((b) => b.volume);
const DATES = ['2000-03-01', '2008-10-10', '2020-03-16'];

function indexOf(date: string): number {
  const t = bars.findIndex((b) => b.date === date);
  if (t < 0) throw new Error(`no bar on ${date}`);
  return t;
}

function expectRelative(actual: number, expected: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-9 * Math.abs(expected));
}

/** Leading NaNs of a series, and whether everything after them is finite. */
function warmupOf(series: readonly number[]): { warmup: number; finiteAfter: boolean } {
  const warmup = series.findIndex((x) => !Number.isNaN(x));
  return { warmup, finiteAfter: series.slice(warmup).every(Number.isFinite) };
}

// Reference values, each computed from the published definition with a plain loop up to bar t.

function referenceRsi(t: number, period = 14): number {
  let gain = 0;
  let loss = 0;
  for (let i = 1; i <= t; i++) {
    const change = close[i]! - close[i - 1]!;
    const up = change > 0 ? change : 0;
    const down = change < 0 ? -change : 0;
    if (i <= period) {
      gain += up / period;
      loss += down / period;
    } else {
      gain = (gain * (period - 1) + up) / period;
      loss = (loss * (period - 1) + down) / period;
    }
  }
  return 100 - 100 / (1 + gain / loss);
}

function referenceAtr(t: number, period = 14): number {
  let atr = 0;
  for (let i = 1; i <= t; i++) {
    const { high, low } = bars[i]!;
    const trueRange = Math.max(high - low, Math.abs(high - close[i - 1]!), Math.abs(low - close[i - 1]!));
    atr = i <= period ? atr + trueRange / period : (atr * (period - 1) + trueRange) / period;
  }
  return atr;
}

/** EMA of values[from..t], seeded with the SMA of its first `period` values. */
function referenceEma(values: readonly number[], from: number, t: number, period: number): number {
  let seed = 0;
  for (let i = from; i < from + period; i++) seed += values[i]!;
  let ema = seed / period;
  for (let i = from + period; i <= t; i++) ema = values[i]! * (2 / (period + 1)) + ema * (1 - 2 / (period + 1));
  return ema;
}

function referenceMacdHistogram(t: number): number {
  const macd: number[] = [];
  for (let i = 25; i <= t; i++) macd[i] = referenceEma(close, 0, i, 12) - referenceEma(close, 0, i, 26);
  return macd[t]! - referenceEma(macd, 25, t, 9);
}

function referenceBollinger(t: number): { middle: number; upper: number; lower: number } {
  const window = close.slice(t - 19, t + 1);
  const middle = window.reduce((a, b) => a + b) / 20;
  const sigma = Math.sqrt(window.reduce((a, x) => a + (x - middle) ** 2, 0) / 20);
  return { middle, upper: middle + 2 * sigma, lower: middle - 2 * sigma };
}

function referenceObv(t: number): number {
  let obv = 0;
  for (let i = 1; i <= t; i++) obv += Math.sign(close[i]! - close[i - 1]!) * volume[i]!;
  return obv;
}

function referenceMfi(t: number): number {
  const typical = (b: DailyBar) => (b.high + b.low + b.close) / 3;
  let positive = 0;
  let negative = 0;
  for (let i = t - 13; i <= t; i++) {
    const flow = typical(bars[i]!) * bars[i]!.volume;
    if (typical(bars[i]!) > typical(bars[i - 1]!)) positive += flow;
    if (typical(bars[i]!) < typical(bars[i - 1]!)) negative += flow;
  }
  return 100 - 100 / (1 + positive / negative);
}

/** Aroon from the sessions since the most recent extreme among bars t−25..t. */
function referenceAroon(t: number): { up: number; down: number } {
  const window = bars.slice(t - 25, t + 1).reverse();
  const highest = Math.max(...window.map((b) => b.high));
  const lowest = Math.min(...window.map((b) => b.low));
  const sinceHigh = window.findIndex((b) => b.high === highest);
  const sinceLow = window.findIndex((b) => b.low === lowest);
  return { up: ((25 - sinceHigh) / 25) * 100, down: ((25 - sinceLow) / 25) * 100 };
}

function referenceVolatility(t: number): number {
  const returns: number[] = [];
  for (let i = t - 19; i <= t; i++) returns.push(Math.log(close[i]!) - Math.log(close[i - 1]!));
  const mean = returns.reduce((a, b) => a + b) / 20;
  return Math.sqrt(returns.reduce((a, r) => a + (r - mean) ** 2, 0) / 19);
}

describe('indicators on the S&P 500 file, against their definitions', () => {
  const series = {
    rsi: rsi(close),
    atr: averageTrueRange(bars),
    macd: macdHistogram(close),
    bands: bollingerBands(close),
    obv: onBalanceVolume(close, volume),
    mfi: moneyFlowIndex(bars),
    aroon: aroon(bars),
    volatility: volatility(close),
  };

  it('gives one value per bar, NaN exactly during the documented warm-up and finite after it', () => {
    const all = [
      series.rsi, series.atr, series.macd, series.bands.middle, series.bands.upper, series.bands.lower, series.obv, series.mfi,
      series.aroon.up, series.aroon.down, series.volatility,
    ];
    expect(all.map((s) => s.length)).toEqual(all.map(() => 5105));
    expect(all.map(warmupOf)).toEqual(
      [14, 14, 33, 19, 19, 19, 0, 14, 25, 25, 20].map((warmup) => ({ warmup, finiteAfter: true })),
    );
  });

  it.each(DATES)('RSI 14 (Wilder) on %s', (date) => expectRelative(series.rsi[indexOf(date)]!, referenceRsi(indexOf(date))));
  it.each(DATES)('ATR 14 (Wilder) on %s', (date) => expectRelative(series.atr[indexOf(date)]!, referenceAtr(indexOf(date))));
  it.each(DATES)('MACD 12/26/9 histogram on %s', (date) =>
    expectRelative(series.macd[indexOf(date)]!, referenceMacdHistogram(indexOf(date))),
  );
  it.each(DATES)('Bollinger Bands 20/2 (population σ) on %s', (date) => {
    const t = indexOf(date);
    const expected = referenceBollinger(t);
    expectRelative(series.bands.middle[t]!, expected.middle);
    expectRelative(series.bands.upper[t]!, expected.upper);
    expectRelative(series.bands.lower[t]!, expected.lower);
  });
  it.each(DATES)('OBV from 0 at the first bar on %s', (date) => expect(series.obv[indexOf(date)]).toBe(referenceObv(indexOf(date))));
  it.each(DATES)('MFI 14 on %s', (date) => expectRelative(series.mfi[indexOf(date)]!, referenceMfi(indexOf(date))));
  it.each(DATES)('Aroon 25 on %s', (date) => {
    const t = indexOf(date);
    const expected = referenceAroon(t);
    expectRelative(series.aroon.up[t]!, expected.up);
    expectRelative(series.aroon.down[t]!, expected.down);
  });
  it.each(DATES)('volatility (sample σ of 20 log returns) on %s', (date) =>
    expectRelative(series.volatility[indexOf(date)]!, referenceVolatility(indexOf(date))),
  );

  it('SMA 20 of the close is the mean of the last 20 closes', () => {
    const t = indexOf('2008-10-10');
    expectRelative(sma(close, 20)[t]!, close.slice(t - 19, t + 1).reduce((a, b) => a + b) / 20);
  });
});

describe('indicators on hand-made series', () => {
  // The RSI worked example of StockCharts' ChartSchool; its table shows 70.53, 66.32, 66.55, 69.41, 66.36, 57.97.
  const closes = [
    44.3389, 44.0902, 44.1497, 43.6124, 44.3278, 44.8264, 45.0955, 45.4245, 45.8433, 46.0826, 45.8931, 46.0328, 45.614, 46.282,
    46.282, 46.0028, 46.0328, 46.4116, 46.2222, 45.6439,
  ];

  it('RSI 14 of a 20-bar series', () => {
    const values = rsi(closes);
    expect(values.slice(0, 14)).toEqual(new Array(14).fill(Number.NaN));
    const expected = [70.53278948369508, 66.31856180517235, 66.54982993552765, 69.40630533884438, 66.35516905627182, 57.974855714308184];
    values.slice(14).forEach((value, i) => expect(value).toBeCloseTo(expected[i]!, 11));
  });

  it('RSI is 100 when the close only rose and 50 when it never moved', () => {
    expect(rsi([1, 2, 3, 4], 3)).toEqual([Number.NaN, Number.NaN, Number.NaN, 100]);
    expect(rsi([5, 5, 5, 5], 3)).toEqual([Number.NaN, Number.NaN, Number.NaN, 50]);
  });

  // Typical prices 9, 10, 32/3, 32/3, 10, 35/3, 12, 29/3: bar 3 repeats bar 2's.
  const ohlcv: Array<[high: number, low: number, close: number, volume: number]> = [
    [10, 8, 9, 100],
    [11, 9, 10, 200],
    [12, 9, 11, 150],
    [12, 10, 10, 120],
    [11, 9, 10, 300],
    [13, 10, 12, 250],
    [13, 11, 12, 100],
    [12, 8, 9, 400],
  ];
  const small: DailyBar[] = ohlcv.map(([high, low, close, volume], i) => ({
    symbol: 'T',
    date: `2024-01-${String(i + 2).padStart(2, '0')}`,
    open: close,
    high,
    low,
    close,
    volume,
  }));
  const smallClose = small.map((b) => b.close);
  const NaN3 = [Number.NaN, Number.NaN, Number.NaN];

  it('MFI 3: an unchanged typical price is neither positive nor negative flow', () => {
    // t=3: flows of bars 1, 2 positive, bar 3 unchanged → 100; then 800/23, 3500/71, 24700/427, 24700/479.
    const values = moneyFlowIndex(small, 3);
    expect(values.slice(0, 3)).toEqual(NaN3);
    [100, 34.78260869565217, 49.29577464788732, 57.84543325526932, 51.56576200417537].forEach((expected, i) =>
      expect(values[3 + i]).toBeCloseTo(expected, 11),
    );
  });

  it('MFI is 50 when nothing traded', () => {
    expect(moneyFlowIndex(small.map((b) => ({ ...b, volume: 0 })), 3).slice(3)).toEqual([50, 50, 50, 50, 50]);
  });

  it('ATR 3: true ranges 2, 3, 2, 2, 3, 2, 4 from the second bar', () => {
    // 7/3, then Wilder: 20/9, 67/27, 188/81, 700/243.
    const values = averageTrueRange(small, 3);
    expect(values.slice(0, 3)).toEqual(NaN3);
    [2.3333333333333335, 2.2222222222222223, 2.4814814814814814, 2.3209876543209877, 2.880658436213992].forEach((expected, i) =>
      expect(values[3 + i]).toBeCloseTo(expected, 12),
    );
  });

  it('MACD 2/3/2 histogram', () => {
    // −1/6, −5/54, 11/162, 0, −589/2916.
    const values = macdHistogram(smallClose, 2, 3, 2);
    expect(values.slice(0, 3)).toEqual(NaN3);
    [-0.16666666666666666, -0.09259259259259259, 0.06790123456790123, 0, -0.20198902606310012].forEach((expected, i) =>
      expect(values[3 + i]).toBeCloseTo(expected, 12),
    );
  });

  it('Bollinger 3/2 uses the population σ', () => {
    // closes 1, 2, 3: mean 2, σ = √(2/3).
    const bands = bollingerBands([1, 2, 3, 4, 5], 3, 2);
    expect(bands.middle).toEqual([Number.NaN, Number.NaN, 2, 3, 4]);
    expect(bands.upper[2]).toBeCloseTo(2 + 2 * Math.sqrt(2 / 3), 14);
    expect(bands.lower[4]).toBeCloseTo(4 - 2 * Math.sqrt(2 / 3), 14);
  });

  it('OBV starts at 0 and ignores unchanged closes', () => {
    expect(onBalanceVolume(smallClose, small.map((b) => b.volume))).toEqual([0, 200, 350, 230, 230, 480, 480, 80]);
    expect(onBalanceVolume([], [])).toEqual([]);
  });

  it('Aroon 3 counts from the most recent of equal extremes', () => {
    // t=4: highs 11, 12, 12, 11 → the later 12, one session ago; lows 9, 9, 10, 9 → today.
    const { up, down } = aroon(small, 3);
    expect(up).toEqual([...NaN3, 100, 200 / 3, 100, 100, 200 / 3]);
    expect(down).toEqual([...NaN3, 0, 100, 200 / 3, 100 / 3, 100]);
  });

  it('volatility 3: sample σ of the last 3 log returns', () => {
    const values = volatility(smallClose, 3);
    expect(values.slice(0, 3)).toEqual(NaN3);
    [0.11306772215901009, 0.09531017980432492, 0.14107005447216664, 0.10526339989406133, 0.2369618592326923].forEach((expected, i) =>
      expect(values[3 + i]).toBeCloseTo(expected, 14),
    );
  });
});
