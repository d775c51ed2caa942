/**
 * The ARIMA fallback: an automatic ARIMA fitted to the recent log closes, forecasting FORECAST_DAYS
 * sessions. Its order search regularly yields garbage, so every output is judged against the series' own
 * volatility (`implausibility`) before it may become a forecast.
 */
import { createHash } from 'node:crypto';
import { volatility } from '../features/indicators.js';
import { FORECAST_DAYS } from '../training/constants.js';
import { fitAutoArima, type AutoArimaFit } from './auto-arima.js';
import { ForecastUnavailable, makeForecast, type Forecast, type ForecastInput, type Forecaster } from './forecast.js';
import { normalCdf } from './normal-distribution.js';

/** Sessions fitted by default: about a year. */
export const ARIMA_DEFAULT_LOOKBACK = 250;

/** Fewer closes leave the search (up to 5 AR and 5 MA terms after differencing) too few per parameter. */
export const ARIMA_MIN_SESSIONS = 60;

/** A forecast k-session log move beyond this many k-session standard deviations of the lookback is garbage. */
export const MAX_MOVE_SDS = 10;

/**
 * The forecast-error variance at step k must lie within these multiples of the lookback's k-session
 * variance (k·σ², σ the daily log-return standard deviation). Sound fits of 250 S&P 500 sessions
 * (2001–2020) stay within 0.7..1.7 at step 1 and 0.5..1.2 at step 5.
 */
export const FORECAST_VARIANCE_RATIO: readonly [number, number] = [0.25, 4];

export interface ArimaForecasterOptions {
  /** Most recent sessions to fit (default ARIMA_DEFAULT_LOOKBACK); at least ARIMA_MIN_SESSIONS. */
  lookback?: number;
}

/**
 * What is wrong with the fitted output, or null if it is plausible for a series of log closes whose last
 * value is `lastLogClose` and whose daily log returns have standard deviation `dailySd`. Checked: every
 * number finite; the FORECAST_DAYS-session log move within MAX_MOVE_SDS standard deviations; the
 * forecast-error variance at step 1 and at step FORECAST_DAYS within FORECAST_VARIANCE_RATIO of the
 * series' own variance over as many sessions (a negative or absurd variance makes the probability
 * meaningless even when the path looks sane).
 */
export function implausibility(fit: AutoArimaFit, lastLogClose: number, dailySd: number): string | null {
  const { predictions, variances } = fit;
  if (![...predictions, ...variances].every(Number.isFinite)) {
    return `non-finite output: predictions [${predictions.join(', ')}], variances [${variances.join(', ')}]`;
  }
  const move = predictions[FORECAST_DAYS - 1]! - lastLogClose;
  const sessionSd = dailySd * Math.sqrt(FORECAST_DAYS);
  if (Math.abs(move) > MAX_MOVE_SDS * sessionSd) {
    return (
      `${FORECAST_DAYS}-session log move ${move.toFixed(4)} is beyond ${MAX_MOVE_SDS} × the lookback's ` +
      `${FORECAST_DAYS}-session standard deviation ${sessionSd.toFixed(4)}`
    );
  }
  const [low, high] = FORECAST_VARIANCE_RATIO;
  for (const step of [1, FORECAST_DAYS]) {
    const variance = variances[step - 1]!;
    const expected = step * dailySd ** 2;
    if (!(variance >= low * expected && variance <= high * expected)) {
      return (
        `forecast-error variance ${variance.toPrecision(4)} at session ${step} is not within ` +
        `${low}..${high} × the lookback's ${step}-session variance ${expected.toPrecision(4)}`
      );
    }
  }
  return null;
}

/**
 * Fits already made, by the digest of the log closes fitted: the same session is forecast by the chain, by the
 * skill baselines at training and by the accuracy backfill, and one fit costs ~0.1 s. Remembering also makes the
 * same closes give the same forecast every time within a process, which the package alone does not promise for
 * its random-walk fits (see the header). Bounded, oldest forgotten first.
 */
const fits = new Map<string, AutoArimaFit | Error>();
const MAX_REMEMBERED_FITS = 20_000;

function rememberedFit(logCloses: readonly number[]): AutoArimaFit {
  const key = createHash('sha256').update(new Float64Array(logCloses)).digest('base64');
  let fit = fits.get(key);
  if (fit === undefined) {
    try {
      fit = fitAutoArima(logCloses, FORECAST_DAYS);
    } catch (error) {
      fit = error instanceof Error ? error : new Error(String(error));
    }
    if (fits.size >= MAX_REMEMBERED_FITS) fits.delete(fits.keys().next().value!);
    fits.set(key, fit);
  }
  if (fit instanceof Error) throw fit;
  return fit;
}

const orderName = (fit: AutoArimaFit) => (fit.order ? `ARIMA(${fit.order.p},${fit.order.d},${fit.order.q})` : 'ARIMA');

export class ArimaForecaster implements Forecaster {
  readonly source = 'arima';
  private readonly lookback: number;

  constructor(options: ArimaForecasterOptions = {}) {
    this.lookback = options.lookback ?? ARIMA_DEFAULT_LOOKBACK;
    if (!Number.isInteger(this.lookback) || this.lookback < ARIMA_MIN_SESSIONS) {
      throw new RangeError(`ARIMA lookback must be an integer of at least ${ARIMA_MIN_SESSIONS} sessions, got ${this.lookback}`);
    }
  }

  async forecast(input: ForecastInput): Promise<Forecast> {
    const closes = input.bars.slice(-this.lookback).map((b) => b.close);
    if (closes.length < ARIMA_MIN_SESSIONS) {
      throw new ForecastUnavailable('arima', `${closes.length} sessions of history; ARIMA needs at least ${ARIMA_MIN_SESSIONS}`);
    }
    const logCloses = closes.map(Math.log);
    const lastLogClose = logCloses[logCloses.length - 1]!;
    const dailySd = volatility(closes, closes.length - 1)[closes.length - 1]!;

    let fit: AutoArimaFit;
    try {
      fit = rememberedFit(logCloses);
    } catch (error) {
      throw new ForecastUnavailable('arima', `the arima package failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    const problem = implausibility(fit, lastLogClose, dailySd);
    if (problem) throw new ForecastUnavailable('arima', `${orderName(fit)} output rejected: ${problem}`);

    const forecastSd = Math.sqrt(fit.variances[FORECAST_DAYS - 1]!);
    const move = fit.predictions[FORECAST_DAYS - 1]! - lastLogClose;
    return makeForecast(input, 'arima', {
      // The predictions are log prices: a log move of m is a return of e^m − 1, and up iff m > 0.
      expectedReturns: fit.predictions.map((logPrice) => Math.exp(logPrice - lastLogClose) - 1),
      probUp: normalCdf(move / forecastSd),
      modelVersion: null,
      details: { order: fit.order, lookback: closes.length, forecastSd },
    });
  }
}
