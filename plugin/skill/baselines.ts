/**
 * The naive forecasters every forecast is measured against. Each forecasts the FORECAST_DAYS-session
 * direction at session t from the bars up to t; the three rules earn their probabilities on training
 * rows only (`fitBaselines`), and ARIMA and the technical rules are the fallback chain's own forecasters.
 *
 * - majority: always the training rows' majority direction; P(up) = their up-rate (the base rate),
 *   expected return = their mean FORECAST_DAYS-session return;
 * - momentum_5: up when the last 5-session return is positive; expected return = that return again;
 * - mean_reversion_20: up when the last 20-session return is negative; expected return = minus a quarter
 *   of it (the 20-session move undone at the same pace over 5 sessions);
 * - arima, technical: the fallback tiers' forecasts at t. Where ARIMA declines (it often does), its
 *   baseline is the majority forecast, and `answered` says on how many sessions it spoke for itself.
 *
 * A rule's P(up) is the up-rate of the training rows on which the rule said the same thing (Laplace-
 * smoothed, (ups + 1) / (n + 2)), so its Brier score measures what the rule knows, not a made-up edge.
 * Its hit rate counts the rule's own direction.
 */
import type { DailyBar } from '../bar.js';
import { ArimaForecaster, ARIMA_DEFAULT_LOOKBACK } from '../forecasting/arima-forecaster.js';
import { BASE_RATE_LOOKBACK } from '../forecasting/base-rate-forecaster.js';
import { ForecastUnavailable } from '../forecasting/forecast.js';
import { technicalForecastAt, technicalSeries } from '../forecasting/technical-forecaster.js';
import { FORECAST_DAYS } from '../training/constants.js';

export const BASELINE_NAMES = ['majority', 'momentum_5', 'mean_reversion_20', 'technical', 'arima'] as const;
export type BaselineName = (typeof BASELINE_NAMES)[number];

/** One forecaster's view of one session. */
export interface PointForecast {
  prob_up: number;
  /** 1 = up. */
  direction: number;
  /** Expected FORECAST_DAYS-session return (for the information coefficient). */
  expected_return: number;
}

/** What the rules learnt from the training rows. */
export interface BaselineFit {
  /** Training rows. */
  n: number;
  base_rate: number;
  mean_return: number;
  /** P(up) after a 5-session rise, and after a fall (or no change). */
  momentum: { after_rise: number; after_fall: number };
  /** P(up) after a 20-session rise, and after a fall (or no change). */
  reversion: { after_rise: number; after_fall: number };
}

export interface BaselineSeries {
  name: BaselineName;
  forecasts: PointForecast[];
  /** Sessions on which the forecaster answered itself (ARIMA may decline; the rules always answer). */
  answered: number;
}

const MOMENTUM_SESSIONS = 5;
const REVERSION_SESSIONS = 20;

const trailing = (closes: readonly number[], t: number, k: number) => (t >= k ? closes[t]! / closes[t - k]! - 1 : Number.NaN);
const smoothed = (ups: number, n: number) => (ups + 1) / (n + 2);

/**
 * Fits the rules on the training rows `indices` (bar indices t whose label close[t + FORECAST_DAYS] is
 * known and may be trained on). Rows without the 20 sessions of history a rule needs count for the base
 * rate only.
 */
export function fitBaselines(closes: readonly number[], indices: readonly number[]): BaselineFit {
  if (indices.length === 0) throw new RangeError('fitBaselines needs at least one training row');
  let ups = 0;
  let returns = 0;
  const momentum = { rise: [0, 0], fall: [0, 0] };
  const reversion = { rise: [0, 0], fall: [0, 0] };
  for (const t of indices) {
    const label = closes[t + FORECAST_DAYS];
    if (label === undefined) throw new RangeError(`training row ${t} has no label: bar ${t + FORECAST_DAYS} does not exist`);
    const up = label > closes[t]! ? 1 : 0;
    ups += up;
    returns += label / closes[t]! - 1;
    for (const [counts, k] of [[momentum, MOMENTUM_SESSIONS], [reversion, REVERSION_SESSIONS]] as const) {
      const r = trailing(closes, t, k);
      if (Number.isNaN(r)) continue;
      const bucket = r > 0 ? counts.rise : counts.fall;
      bucket[0]! += up;
      bucket[1]! += 1;
    }
  }
  const rate = (bucket: number[]) => smoothed(bucket[0]!, bucket[1]!);
  return {
    n: indices.length,
    base_rate: ups / indices.length,
    mean_return: returns / indices.length,
    momentum: { after_rise: rate(momentum.rise), after_fall: rate(momentum.fall) },
    reversion: { after_rise: rate(reversion.rise), after_fall: rate(reversion.fall) },
  };
}

/** The majority forecast: the base rate, the majority direction, the mean return. */
export function majorityForecast(fit: BaselineFit): PointForecast {
  return { prob_up: fit.base_rate, direction: fit.base_rate > 0.5 ? 1 : 0, expected_return: fit.mean_return };
}

function momentumForecast(closes: readonly number[], t: number, fit: BaselineFit): PointForecast {
  const r = trailing(closes, t, MOMENTUM_SESSIONS);
  return { prob_up: r > 0 ? fit.momentum.after_rise : fit.momentum.after_fall, direction: r > 0 ? 1 : 0, expected_return: r };
}

function reversionForecast(closes: readonly number[], t: number, fit: BaselineFit): PointForecast {
  const r = trailing(closes, t, REVERSION_SESSIONS);
  return {
    prob_up: r > 0 ? fit.reversion.after_rise : fit.reversion.after_fall,
    direction: r < 0 ? 1 : 0,
    expected_return: (-r * FORECAST_DAYS) / REVERSION_SESSIONS,
  };
}

export interface BaselineOptions {
  /** ARIMA costs ~0.1 s a session: left out where thousands of sessions are scored. */
  arima: boolean;
}

/**
 * Every baseline at the sessions `indices` (bar indices, each with at least 20 bars before it) of
 * `bars`, one symbol's bars in session order. Only bars up to each session are read.
 */
export async function baselineForecasts(bars: readonly DailyBar[], indices: readonly number[], fit: BaselineFit, options: BaselineOptions): Promise<BaselineSeries[]> {
  const closes = bars.map((b) => b.close);
  const majority = majorityForecast(fit);
  const technical = technicalSeries(closes);
  const technicalForecasts = indices.map((t) => {
    const f = technicalForecastAt(technical, t);
    return { prob_up: f.probUp, direction: f.probUp > 0.5 ? 1 : 0, expected_return: f.expectedReturns[FORECAST_DAYS - 1]! };
  });
  const series: BaselineSeries[] = [
    { name: 'majority', forecasts: indices.map(() => majority), answered: indices.length },
    { name: 'momentum_5', forecasts: indices.map((t) => momentumForecast(closes, t, fit)), answered: indices.length },
    { name: 'mean_reversion_20', forecasts: indices.map((t) => reversionForecast(closes, t, fit)), answered: indices.length },
    { name: 'technical', forecasts: technicalForecasts, answered: indices.length },
  ];
  return options.arima ? [...series, await arimaSeries(bars, indices, majority)] : series;
}

/** ARIMA at each session from its last ARIMA_DEFAULT_LOOKBACK bars; the majority forecast where it declines. */
async function arimaSeries(bars: readonly DailyBar[], indices: readonly number[], majority: PointForecast): Promise<BaselineSeries> {
  const arima = new ArimaForecaster();
  const forecasts: PointForecast[] = [];
  let answered = 0;
  for (const t of indices) {
    const window = bars.slice(Math.max(0, t + 1 - ARIMA_DEFAULT_LOOKBACK), t + 1);
    try {
      const forecast = await arima.forecast({ symbol: window[0]!.symbol, bars: window, asOf: window[window.length - 1]!.date });
      forecasts.push({ prob_up: forecast.probUp, direction: forecast.direction, expected_return: forecast.magnitude });
      answered++;
    } catch (error) {
      if (!(error instanceof ForecastUnavailable)) throw error;
      forecasts.push(majority);
    }
  }
  return { name: 'arima', forecasts, answered };
}

/**
 * What every baseline said at bar index t, live: the rules fitted on the moves completed within the last
 * BASE_RATE_LOOKBACK bars up to t (the base-rate tier's window), everything read from bars up to t.
 * Null when no move has completed before t.
 */
export async function baselinesAt(bars: readonly DailyBar[], t: number, options: BaselineOptions): Promise<Partial<Record<BaselineName, PointForecast & { answered?: boolean }>> | null> {
  // The moves inside the last BASE_RATE_LOOKBACK bars up to t, exactly as the base-rate tier counts them.
  const first = Math.max(0, t + 1 - BASE_RATE_LOOKBACK);
  const last = t - FORECAST_DAYS;
  if (last < first) return null;
  const history = bars.slice(0, t + 1);
  const trainIndices = Array.from({ length: last - first + 1 }, (_, k) => first + k);
  const series = await baselineForecasts(history, [t], fitBaselines(history.map((b) => b.close), trainIndices), options);
  return Object.fromEntries(series.map((s) => [s.name, { ...s.forecasts[0]!, ...(s.name === 'arima' && { answered: s.answered === 1 }) }]));
}
