/**
 * The last tier of the fallback chain, rules of thumb on the indicators at the as-of session, and the
 * technical score every signal carries.
 *
 * Direction: RSI 14 below 30 (oversold) → up; above 70 (overbought) → down; otherwise the sign of the
 * MACD histogram (12/26/9). Magnitude: half a standard deviation of the move, i.e. the expected k-session
 * return is ±MAGNITUDE_FACTOR · σ20 · √k, σ20 the 20-session volatility of daily log returns.
 * Probability of up: 0.5 ± an edge of BASE_EDGE, plus up to RSI_EXTRA_EDGE more in proportion to how
 * far RSI is past its threshold (full at RSI_FULL_DEPTH points past), so never beyond [0.35, 0.65]:
 * a rule of thumb must not claim more certainty than that.
 */
import type { DailyBar } from '../bar.js';
import { buildFeatureFrame, FEATURE_HISTORY } from '../features/frame.js';
import { macdHistogram, rsi, sma, volatility } from '../features/indicators.js';
import { FORECAST_DAYS } from '../training/constants.js';
import { ForecastUnavailable, makeForecast, type Forecast, type ForecastInput, type Forecaster } from './forecast.js';

export const RSI_OVERSOLD = 30;
export const RSI_OVERBOUGHT = 70;
/** Expected move in standard deviations of the move: half of one. */
export const MAGNITUDE_FACTOR = 0.5;
/** The edge over a coin toss of any rule that fires; MACD alone gets only this. */
export const BASE_EDGE = 0.05;
/** The further edge of an RSI rule, reached RSI_FULL_DEPTH points past the threshold (RSI 10 or 90). */
export const RSI_EXTRA_EDGE = 0.1;
export const RSI_FULL_DEPTH = 20;
/** Sessions of the trend average in the technical score. */
const TREND_PERIOD = 50;
/**
 * The longest warm-up among the indicators used here: SMA 50 of the technical score (the rules alone
 * need 34, for MACD 12/26/9). Every signal carries the score, so the rules ask for as much.
 */
export const TECHNICAL_MIN_SESSIONS = TREND_PERIOD;

export type TechnicalRule = 'rsi-oversold' | 'rsi-overbought' | 'macd-histogram';

const clamp01 = (value: number) => Math.max(0, Math.min(1, value));

function tooShort(bars: readonly DailyBar[]): string | null {
  return bars.length < TECHNICAL_MIN_SESSIONS
    ? `${bars.length} sessions of history; the technical indicators need at least ${TECHNICAL_MIN_SESSIONS}`
    : null;
}

/**
 * The 0 (bearish) .. 1 (bullish) technical score at the last bar: the mean of four equally weighted
 * parts, two contrarian and two following the trend:
 * - RSI: clamp((70 − RSI 14)/40, 0, 1): 1 at or below 30 (oversold), 0 at or above 70 (overbought);
 * - MACD: 1 when the histogram is positive, else 0;
 * - Bollinger: 1 − clamp(position in the 20/2 bands, 0, 1) (the feature `bb_position`): 1 at or below
 *   the lower band, 0 at or above the upper;
 * - trend: 1 when the close is above its SMA 50, else 0.
 * Throws a RangeError with fewer than TECHNICAL_MIN_SESSIONS bars.
 */
export function technicalScore(history: readonly DailyBar[]): number {
  const problem = tooShort(history);
  if (problem) throw new RangeError(problem);
  // The indicators at the last bar need only the recent history (see FEATURE_HISTORY).
  const bars = history.slice(-(FEATURE_HISTORY + 1));
  const closes = bars.map((b) => b.close);
  const t = closes.length - 1;
  const bbPosition = buildFeatureFrame(bars, ['bb_position']).rows.at(-1)![0]!;
  const parts = [
    clamp01((RSI_OVERBOUGHT - rsi(closes)[t]!) / (RSI_OVERBOUGHT - RSI_OVERSOLD)),
    macdHistogram(closes)[t]! > 0 ? 1 : 0,
    1 - clamp01(bbPosition),
    closes[t]! > sma(closes, TREND_PERIOD)[t]! ? 1 : 0,
  ];
  return parts.reduce((sum, part) => sum + part, 0) / parts.length;
}

/** Which rule fires at an RSI and MACD histogram, the direction it gives (+1, −1, or 0) and its edge. */
function technicalRule(rsiValue: number, histogram: number): { rule: TechnicalRule; sign: number; edge: number } {
  const rsiEdge = (depth: number) => BASE_EDGE + RSI_EXTRA_EDGE * Math.min(1, depth / RSI_FULL_DEPTH);
  if (rsiValue < RSI_OVERSOLD) return { rule: 'rsi-oversold', sign: 1, edge: rsiEdge(RSI_OVERSOLD - rsiValue) };
  if (rsiValue > RSI_OVERBOUGHT) return { rule: 'rsi-overbought', sign: -1, edge: rsiEdge(rsiValue - RSI_OVERBOUGHT) };
  // A histogram of exactly 0 gives sign 0: no move and a probability of 0.5.
  return { rule: 'macd-histogram', sign: Math.sign(histogram), edge: BASE_EDGE };
}

/** The indicator series the rules read, over a whole close series (each value uses closes up to its index only). */
export interface TechnicalSeries {
  rsi: number[];
  histogram: number[];
  sigma: number[];
}

export function technicalSeries(closes: readonly number[]): TechnicalSeries {
  return { rsi: rsi(closes), histogram: macdHistogram(closes), sigma: volatility(closes) };
}

/** The rules' forecast at index t of the series: P(up), the expected 1..FORECAST_DAYS-session returns and what fired. */
export function technicalForecastAt(series: TechnicalSeries, t: number) {
  const rsiValue = series.rsi[t]!;
  const histogram = series.histogram[t]!;
  const sigma = series.sigma[t]!;
  const { rule, sign, edge } = technicalRule(rsiValue, histogram);
  return {
    probUp: 0.5 + sign * edge,
    expectedReturns: Array.from({ length: FORECAST_DAYS }, (_, i) => sign * MAGNITUDE_FACTOR * sigma * Math.sqrt(i + 1)),
    details: { rule, rsi: rsiValue, macdHistogram: histogram, volatility: sigma },
  };
}

export class TechnicalForecaster implements Forecaster {
  readonly source = 'technical';

  async forecast(input: ForecastInput): Promise<Forecast> {
    const problem = tooShort(input.bars);
    if (problem) throw new ForecastUnavailable('technical', problem);
    const closes = input.bars.map((b) => b.close);
    return makeForecast(input, 'technical', { ...technicalForecastAt(technicalSeries(closes), closes.length - 1), modelVersion: null });
  }
}
