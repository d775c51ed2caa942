/**
 * The feature frame: one row of scale-free features per session, computed from that session's bar and
 * the bars before it, never a later one.
 */
import type { DailyBar } from '../bar.js';
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
} from './indicators.js';

export const DEFAULT_FEATURE_NAMES = [
  'close_norm',
  'volume_norm',
  'rsi',
  'macd_hist',
  'bb_position',
  'volatility',
  'obv_norm',
  'mfi',
  'aroon_up',
  'aroon_down',
  'atr_pct',
  'ret_1',
  'ret_5',
  'ret_10',
  'ret_20',
] as const;

export type FeatureName = (typeof DEFAULT_FEATURE_NAMES)[number];

export interface FeatureFrame {
  symbol: string;
  featureNames: FeatureName[];
  /** Session of each row. Rows are consecutive sessions: row i + k is k sessions after row i. */
  dates: string[];
  /** Close of each row's session (labels are computed from it). */
  close: number[];
  /** [row][feature], in `featureNames` order. */
  rows: number[][];
  /** Leading sessions dropped because some requested feature was still warming up. */
  warmup: number;
}

/** The same session's close, features and date, for JSON output. */
export type FeatureRecord = { date: string; close: number } & Partial<Record<FeatureName, number>>;

/**
 * Sessions of history before a window's first session that make its features independent of where the history
 * starts: the recursive indicators (Wilder's RSI and ATR, MACD's EMAs) weigh a start this far back by at most
 * (13/14)^(400 − 35) ≈ 2e-12, and every other feature looks back at most 26 sessions. Predicting from the last
 * `seqLen + FEATURE_HISTORY` bars gives the full history's forecast without computing 20 years of indicators.
 */
export const FEATURE_HISTORY = 400;

/** Lookback of 20 sessions shared by the normalisations (SMA, OBV change, volume sum). */
const LOOKBACK = 20;

interface Columns {
  bars: readonly DailyBar[];
  close: number[];
  volume: number[];
}

/** `a / b − 1`, the relative distance of a from b. */
const relative = (a: number, b: number) => a / b - 1;

/** close_t / close_{t−k} − 1; NaN for the first k sessions. */
function trailingReturn(close: readonly number[], k: number): number[] {
  return close.map((c, t) => (t < k ? Number.NaN : relative(c, close[t - k]!)));
}

const FEATURES: Record<FeatureName, (c: Columns) => number[]> = {
  close_norm: ({ close }) => {
    const mean = sma(close, LOOKBACK);
    return close.map((c, t) => relative(c, mean[t]!));
  },
  volume_norm: ({ volume }) => {
    const mean = sma(volume, LOOKBACK);
    return volume.map((v, t) => (mean[t] === 0 ? 0 : relative(v, mean[t]!)));
  },
  rsi: ({ close }) => rsi(close).map((value) => value / 100),
  macd_hist: ({ close }) => macdHistogram(close).map((h, t) => h / close[t]!),
  bb_position: ({ close }) => {
    const { upper, lower } = bollingerBands(close);
    return close.map((c, t) => (upper[t] === lower[t] ? 0.5 : (c - lower[t]!) / (upper[t]! - lower[t]!)));
  },
  volatility: ({ close }) => volatility(close),
  obv_norm: ({ close, volume }) => {
    const obv = onBalanceVolume(close, volume);
    // Volume summed over the 20 sessions ending at t: the SMA times its length.
    const traded = sma(volume, LOOKBACK).map((mean) => mean * LOOKBACK);
    return obv.map((value, t) => {
      if (t < LOOKBACK) return Number.NaN;
      return traded[t] === 0 ? 0 : (value - obv[t - LOOKBACK]!) / traded[t]!;
    });
  },
  mfi: ({ bars }) => moneyFlowIndex(bars).map((value) => value / 100),
  aroon_up: ({ bars }) => aroon(bars).up.map((value) => value / 100),
  aroon_down: ({ bars }) => aroon(bars).down.map((value) => value / 100),
  atr_pct: ({ bars, close }) => averageTrueRange(bars).map((atr, t) => atr / close[t]!),
  ret_1: ({ close }) => trailingReturn(close, 1),
  ret_5: ({ close }) => trailingReturn(close, 5),
  ret_10: ({ close }) => trailingReturn(close, 10),
  ret_20: ({ close }) => trailingReturn(close, 20),
};

function checkFeatureNames(featureNames: readonly string[]): asserts featureNames is readonly FeatureName[] {
  const seen = new Set<string>();
  for (const name of featureNames) {
    if (!Object.hasOwn(FEATURES, name)) {
      throw new Error(`unknown feature ${JSON.stringify(name)}; known features: ${DEFAULT_FEATURE_NAMES.join(', ')}`);
    }
    if (seen.has(name)) throw new Error(`feature ${JSON.stringify(name)} is listed twice`);
    seen.add(name);
  }
}

/** Features look back by position, so the bars must be one symbol's, strictly ascending by date. */
function checkBars(bars: readonly DailyBar[]): void {
  for (let i = 1; i < bars.length; i++) {
    if (bars[i]!.symbol !== bars[0]!.symbol) {
      throw new Error(`bars of more than one symbol: ${bars[0]!.symbol} and ${bars[i]!.symbol}`);
    }
    if (bars[i]!.date <= bars[i - 1]!.date) {
      throw new Error(`${bars[i]!.symbol}: bars out of order at ${bars[i]!.date} (after ${bars[i - 1]!.date})`);
    }
  }
}

/**
 * Builds the feature frame of one symbol's bars (ascending by date). Rows before every requested feature
 * has warmed up are dropped (`warmup` says how many); after that every value is finite for validated
 * bars (positive prices, non-negative volume), and a non-finite one throws, naming session and feature,
 * rather than leave a hole that would make row i + k no longer k sessions after row i.
 */
export function buildFeatureFrame(
  bars: readonly DailyBar[],
  featureNames: readonly FeatureName[] = DEFAULT_FEATURE_NAMES,
): FeatureFrame {
  checkFeatureNames(featureNames);
  checkBars(bars);
  const columns: Columns = { bars, close: bars.map((b) => b.close), volume: bars.map((b) => b.volume) };
  const series = featureNames.map((name) => FEATURES[name](columns));
  const finiteAt = (t: number) => series.every((values) => Number.isFinite(values[t]));

  let warmup = 0;
  while (warmup < bars.length && !finiteAt(warmup)) warmup++;
  for (let t = warmup; t < bars.length; t++) {
    const bad = series.findIndex((values) => !Number.isFinite(values[t]));
    if (bad >= 0) throw new Error(`${bars[t]!.symbol} ${bars[t]!.date}: feature ${featureNames[bad]} is ${series[bad]![t]}`);
  }

  const kept = bars.slice(warmup);
  return {
    symbol: bars[0]?.symbol ?? '',
    featureNames: [...featureNames],
    dates: kept.map((b) => b.date),
    close: kept.map((b) => b.close),
    rows: kept.map((_, i) => series.map((values) => values[warmup + i]!)),
    warmup,
  };
}

/** Rows as `{ date, close, <feature>: value, … }` objects, for JSON output. */
export function featureFrameToRecords(frame: FeatureFrame): FeatureRecord[] {
  return frame.rows.map((row, i) => {
    const record: FeatureRecord = { date: frame.dates[i]!, close: frame.close[i]! };
    frame.featureNames.forEach((name, j) => (record[name] = row[j]!));
    return record;
  });
}
