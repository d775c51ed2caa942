/**
 * Technical indicators as per-bar series: each result has one value per input bar, `NaN` while the
 * indicator is still warming up, so index i always describes bar i and uses bars 0..i only.
 *
 * `technicalindicators` supplies SMA, MACD, Bollinger Bands, OBV and ATR: each was checked against its
 * published definition on the bundled S&P 500 file (test/indicators.test.ts). It is always given an
 * identity `format`, because its default formatter rounds to a process-wide precision when anyone calls
 * its `setConfig('precision', …)`. RSI and MFI are written here because the library rounds them to two
 * decimals; the remaining two (Aroon, volatility) it does not have.
 */
import { ATR, BollingerBands, MACD, OBV, SMA } from 'technicalindicators';
import type { DailyBar } from '../bar.js';

type Bars = readonly DailyBar[];

const exact = (value: number) => value;

/** The library returns only the defined values: put them back under the bars they belong to. */
function alignToBars(values: readonly (number | undefined)[], length: number): number[] {
  const series = new Array<number>(length).fill(Number.NaN);
  const offset = length - values.length;
  values.forEach((value, i) => (series[offset + i] = value ?? Number.NaN));
  return series;
}

/** Simple moving average of the last `period` values (incl. today). Warm-up: `period − 1` bars. */
export function sma(values: readonly number[], period: number): number[] {
  return alignToBars(SMA.calculate({ values: [...values], period, format: exact }), values.length);
}

/**
 * Wilder smoothing: the first value (at index `period` of `values`, whose index 0 is skipped because
 * gains, losses and true ranges need a previous bar) is the simple mean of values 1..period; after that
 * s_t = (s_{t−1}·(period − 1) + x_t) / period.
 */
function wilder(values: readonly number[], period: number): number[] {
  const out = new Array<number>(values.length).fill(Number.NaN);
  if (values.length <= period) return out;
  let sum = 0;
  for (let i = 1; i <= period; i++) sum += values[i]!;
  let smoothed = sum / period;
  out[period] = smoothed;
  for (let i = period + 1; i < values.length; i++) {
    smoothed = (smoothed * (period - 1) + values[i]!) / period;
    out[i] = smoothed;
  }
  return out;
}

/**
 * Wilder's RSI: gains and losses are the positive and negative close-to-close changes, each smoothed
 * with Wilder's method (seeded with the mean of the first `period` changes); RSI = 100·G/(G + L), which
 * equals 100 − 100/(1 + G/L), is 100 when L = 0 and 50 when nothing moved (G = L = 0).
 * Warm-up: `period` bars (first value at index `period`).
 * Written here: the library rounds RSI to two decimals.
 */
export function rsi(closes: readonly number[], period = 14): number[] {
  const change = closes.map((close, i) => (i === 0 ? 0 : close - closes[i - 1]!));
  const gain = wilder(change.map((d) => Math.max(d, 0)), period);
  const loss = wilder(change.map((d) => Math.max(-d, 0)), period);
  return gain.map((g, i) => {
    const l = loss[i]!;
    return g + l === 0 ? 50 : (100 * g) / (g + l);
  });
}

/**
 * MACD histogram: MACD = EMA_fast − EMA_slow of the close, signal = EMA_signal of MACD, histogram =
 * MACD − signal. Each EMA is seeded with the SMA of its first `period` inputs, then
 * e_t = e_{t−1} + 2/(period + 1)·(x_t − e_{t−1}). Warm-up: slow + signal − 2 bars (33 for 12/26/9).
 * The library's EMA skips its seed when that SMA is exactly 0, which positive prices never give for
 * the two price EMAs and real data gives the signal EMA only when nine MACD values cancel exactly.
 */
export function macdHistogram(closes: readonly number[], fast = 12, slow = 26, signal = 9): number[] {
  const result = MACD.calculate({
    values: [...closes],
    fastPeriod: fast,
    slowPeriod: slow,
    signalPeriod: signal,
    SimpleMAOscillator: false,
    SimpleMASignal: false,
    format: exact,
  });
  return alignToBars(
    result.map((r) => r.histogram),
    closes.length,
  );
}

export interface Bands {
  middle: number[];
  upper: number[];
  lower: number[];
}

/**
 * Bollinger Bands: middle = SMA(close, period), upper/lower = middle ± width·σ, with σ the population
 * standard deviation (divide by n) of the same closes, as Bollinger defines it and as the library
 * computes it. Warm-up: `period − 1` bars.
 */
export function bollingerBands(closes: readonly number[], period = 20, width = 2): Bands {
  const result = BollingerBands.calculate({ values: [...closes], period, stdDev: width, format: exact });
  const band = (pick: (b: (typeof result)[number]) => number) => alignToBars(result.map(pick), closes.length);
  return { middle: band((b) => b.middle), upper: band((b) => b.upper), lower: band((b) => b.lower) };
}

/**
 * On-balance volume: OBV_0 = 0 at the first bar, then OBV_t = OBV_{t−1} + volume_t when the close rose,
 * − volume_t when it fell, unchanged when it did not move. No warm-up. Only differences of OBV are scale
 * free, so the starting constant does not matter to the features.
 */
export function onBalanceVolume(closes: readonly number[], volumes: readonly number[]): number[] {
  if (closes.length === 0) return [];
  // The library starts its output at the second bar, at 0 ± that bar's volume: the first bar is OBV 0.
  return [0, ...OBV.calculate({ close: [...closes], volume: [...volumes] })];
}

/**
 * Money Flow Index: typical price TP = (high + low + close)/3, raw money flow = TP·volume, counted as
 * positive when TP rose from the previous bar, negative when it fell, and in neither when TP is
 * unchanged. MFI = 100·P/(P + N) over the last `period` bars' flows (= 100 − 100/(1 + P/N)), 100 when
 * N = 0 and 50 when there was no flow at all. Warm-up: `period` bars.
 * Written here: the library rounds MFI to two decimals, counts an unchanged TP as negative flow and
 * never uses the first bar's TP, so its warm-up is one bar longer.
 */
export function moneyFlowIndex(bars: Bars, period = 14): number[] {
  const typical = bars.map((b) => (b.high + b.low + b.close) / 3);
  const positive = typical.map((tp, i) => (i > 0 && tp > typical[i - 1]! ? tp * bars[i]!.volume : 0));
  const negative = typical.map((tp, i) => (i > 0 && tp < typical[i - 1]! ? tp * bars[i]!.volume : 0));
  return bars.map((_, i) => {
    if (i < period) return Number.NaN;
    let p = 0;
    let n = 0;
    for (let j = i - period + 1; j <= i; j++) {
      p += positive[j]!;
      n += negative[j]!;
    }
    return p + n === 0 ? 50 : (100 * p) / (p + n);
  });
}

/**
 * Wilder's Average True Range: TR_t = max(high − low, |high − close_{t−1}|, |low − close_{t−1}|) from
 * the second bar on; ATR is TR Wilder-smoothed, seeded with the mean of TR over bars 1..period.
 * Warm-up: `period` bars.
 */
export function averageTrueRange(bars: Bars, period = 14): number[] {
  const result = ATR.calculate({
    high: bars.map((b) => b.high),
    low: bars.map((b) => b.low),
    close: bars.map((b) => b.close),
    period,
    format: exact,
  });
  return alignToBars(result, bars.length);
}

export interface AroonSeries {
  up: number[];
  down: number[];
}

/**
 * Aroon over the last `period + 1` bars incl. today: up = 100·(period − d_high)/period, where d_high is
 * the number of sessions since the highest high; down likewise with the lowest low. When the extreme
 * occurs more than once the most recent occurrence counts (as TA-Lib does), so a market that touches
 * its old high again reads as making a new one. Warm-up: `period` bars.
 */
export function aroon(bars: Bars, period = 25): AroonSeries {
  const up = new Array<number>(bars.length).fill(Number.NaN);
  const down = new Array<number>(bars.length).fill(Number.NaN);
  for (let t = period; t < bars.length; t++) {
    let highest = t - period;
    let lowest = t - period;
    for (let j = t - period + 1; j <= t; j++) {
      if (bars[j]!.high >= bars[highest]!.high) highest = j;
      if (bars[j]!.low <= bars[lowest]!.low) lowest = j;
    }
    up[t] = (100 * (period - (t - highest))) / period;
    down[t] = (100 * (period - (t - lowest))) / period;
  }
  return { up, down };
}

/**
 * Volatility: the sample standard deviation (divide by n − 1) of the last `period` daily log returns
 * ln(close_t / close_{t−1}), not annualised. Warm-up: `period` bars.
 */
export function volatility(closes: readonly number[], period = 20): number[] {
  const returns = closes.map((close, i) => (i === 0 ? Number.NaN : Math.log(close / closes[i - 1]!)));
  return closes.map((_, t) => {
    if (t < period) return Number.NaN;
    const window = returns.slice(t - period + 1, t + 1);
    const mean = window.reduce((sum, r) => sum + r, 0) / period;
    const squares = window.reduce((sum, r) => sum + (r - mean) ** 2, 0);
    return Math.sqrt(squares / (period - 1));
  });
}
