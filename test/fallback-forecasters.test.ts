import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { spxBars } from './support/spx.js';
import type { DailyBar } from '../plugin/bar.js';
import { bollingerBands, macdHistogram, rsi, sma, volatility } from '../plugin/features/indicators.js';
import { ArimaForecaster } from '../plugin/forecasting/arima-forecaster.js';
import { fitAutoArima } from '../plugin/forecasting/auto-arima.js';
import { forecastWithFallback } from '../plugin/forecasting/fallback.js';
import { ForecastUnavailable, type Forecast, type ForecastInput } from '../plugin/forecasting/forecast.js';
import { DatabaseUnavailableError } from '../plugin/store/errors.js';
import { normalCdf } from '../plugin/forecasting/normal-distribution.js';
import { TechnicalForecaster, technicalScore } from '../plugin/forecasting/technical-forecaster.js';

const bars = await spxBars();
const upTo = (asOf: string) => bars.filter((b) => b.date <= asOf);
const inputOf = (series: readonly DailyBar[]): ForecastInput => ({ symbol: 'SPX', bars: series, asOf: series[series.length - 1]!.date });
const last = (values: readonly number[]) => values[values.length - 1]!;

async function unavailable(promise: Promise<Forecast>): Promise<ForecastUnavailable> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ForecastUnavailable);
  return error as ForecastUnavailable;
}

/** The same bars with every price set to `price`: a series that never moves. */
const flat = (series: readonly DailyBar[], price: number) => series.map((b) => ({ ...b, open: price, high: price, low: price, close: price }));

describe('normalCdf', () => {
  it('matches published values of Φ, is exactly 0.5 at 0 and symmetric', () => {
    expect(normalCdf(0)).toBe(0.5);
    expect(normalCdf(1)).toBeCloseTo(0.8413447460685429, 14);
    expect(normalCdf(-1.959963984540054)).toBeCloseTo(0.025, 14);
    expect(normalCdf(3)).toBeCloseTo(0.9986501019683699, 14);
    expect(Math.abs(normalCdf(-8) / 6.22096057427178e-16 - 1)).toBeLessThan(1e-8);
    expect(normalCdf(-38)).toBe(0);
    expect(normalCdf(38)).toBe(1);
    for (const z of [0.3, 1.7, 4.2, 7.5]) expect(normalCdf(z) + normalCdf(-z)).toBeCloseTo(1, 15);
  });
});

describe('ArimaForecaster on the S&P 500', () => {
  const arima = new ArimaForecaster();

  // Each date fits a different order; all three forecasts pass the plausibility rule.
  it.each([
    { asOf: '2008-10-10', order: { p: 1, d: 1, q: 0 }, magnitude: 0.001464645750971938, probUp: 0.5165760500979378 },
    { asOf: '2019-12-31', order: { p: 1, d: 1, q: 1 }, magnitude: -0.017425412896844183, probUp: 0.14353565405743393 },
    { asOf: '2020-04-17', order: { p: 0, d: 1, q: 2 }, magnitude: -0.0006507897926077977, probUp: 0.4934441691277392 },
  ])('$asOf: a finite, clamped, repeatable forecast from the fitted log prices', async ({ asOf, order, magnitude, probUp }) => {
    const series = upTo(asOf);
    const forecast = await arima.forecast(inputOf(series));

    expect(forecast).toMatchObject({ symbol: 'SPX', asOf, source: 'arima', modelVersion: null, fallbackReasons: [] });
    expect(forecast.details).toMatchObject({ order, lookback: 250 });
    expect(forecast.expectedReturns).toHaveLength(5);
    expect(forecast.expectedReturns.every((r) => Number.isFinite(r) && Math.abs(r) <= 0.15)).toBe(true);
    expect(forecast.probUp).toBeGreaterThanOrEqual(0);
    expect(forecast.probUp).toBeLessThanOrEqual(1);
    expect(forecast.direction).toBe(forecast.probUp > 0.5 ? 1 : 0);
    expect(forecast.magnitude).toBeCloseTo(magnitude, 12);
    expect(forecast.probUp).toBeCloseTo(probUp, 12);

    // The conversion, step by step: returns e^(pred_k − log close_t) − 1, P(up) = Φ(log move / forecast sd).
    const logCloses = series.slice(-250).map((b) => Math.log(b.close));
    const fit = fitAutoArima(logCloses, 5);
    const lastLog = last(logCloses);
    expect(forecast.expectedReturns).toEqual(fit.predictions.map((p) => Math.exp(p - lastLog) - 1));
    expect(forecast.details['forecastSd']).toBe(Math.sqrt(fit.variances[4]!));
    expect(forecast.probUp).toBe(normalCdf((fit.predictions[4]! - lastLog) / Math.sqrt(fit.variances[4]!)));

    expect(await arima.forecast(inputOf(series))).toEqual(forecast);
  });

  it('fits only the last `lookback` sessions', async () => {
    const series = upTo('2008-10-10');
    const forecast = await new ArimaForecaster({ lookback: 120 }).forecast(inputOf(series));
    const fit = fitAutoArima(series.slice(-120).map((b) => Math.log(b.close)), 5);
    expect(forecast.details).toMatchObject({ lookback: 120, order: fit.order });
    expect(forecast.magnitude).toBe(Math.exp(fit.predictions[4]! - Math.log(last(series.map((b) => b.close)))) - 1);
  });

  it('rejects a lookback shorter than its minimum', () => {
    expect(() => new ArimaForecaster({ lookback: 59 })).toThrow(RangeError);
    expect(() => new ArimaForecaster({ lookback: 100.5 })).toThrow('ARIMA lookback must be an integer of at least 60 sessions, got 100.5');
  });

  it('needs 60 sessions: 59 are unavailable, 60 forecast', async () => {
    expect((await unavailable(arima.forecast(inputOf(bars.slice(0, 59))))).reason).toBe('59 sessions of history; ARIMA needs at least 60');
    const forecast = await arima.forecast(inputOf(bars.slice(0, 60)));
    expect(forecast.details).toMatchObject({ order: { p: 2, d: 0, q: 0 }, lookback: 60 });
  });

  it('2015-06-30: the search picks a random walk, the package garbles it, the forecast is unavailable', async () => {
    const series = upTo('2015-06-30');
    // What the package returns for the ARIMA(0,1,0) it chose: leftover denormals (~1e-309) as the
    // predicted log prices, i.e. a −99.95% move, and the window's 4th..8th log closes as the variances.
    const logCloses = series.slice(-250).map((b) => Math.log(b.close));
    const fit = fitAutoArima(logCloses, 5);
    expect(fit.order).toEqual({ p: 0, d: 1, q: 0 });
    expect(fit.predictions.every((p) => Math.abs(p) < 1e-300)).toBe(true);
    expect(fit.variances).toEqual(logCloses.slice(3, 8));

    const error = await unavailable(arima.forecast(inputOf(series)));
    expect(error.source).toBe('arima');
    expect(error.reason).toBe(
      "ARIMA(0,1,0) output rejected: 5-session log move -7.6320 is beyond 10 × the lookback's 5-session standard deviation 0.0171",
    );
  });

  it('a series that never moves: the package returns its input as the variance, the forecast is unavailable', async () => {
    const series = flat(upTo('2001-01-02').slice(-250), 2000);
    // ARIMA(0,0,0): the mean, log 2000, is right; the variances are again input values (log 2000).
    const fit = fitAutoArima(series.map((b) => Math.log(b.close)), 5);
    expect(fit.order).toEqual({ p: 0, d: 0, q: 0 });
    expect(fit.predictions).toEqual(new Array(5).fill(Math.log(2000)));
    expect(fit.variances).toEqual(new Array(5).fill(Math.log(2000)));

    const error = await unavailable(arima.forecast(inputOf(series)));
    expect(error.reason).toBe(
      "ARIMA(0,0,0) output rejected: forecast-error variance 7.601 at session 1 is not within 0.25..4 × the lookback's 1-session variance 0.000",
    );
  });

  it('keeps the C library quiet: nothing reaches stdout or stderr on a series where the package prints', async () => {
    // Fitted through the package's own entry point, the 250 sessions to 2002-07-18 print optimizer notes
    // ("Program Exiting as the function returns NaN", "non-stationary AR part") even with verbose: false.
    const script = `
      import { ArimaForecaster } from './plugin/forecasting/arima-forecaster.ts';
      import { spxBars } from './test/support/spx.ts';
      const bars = (await spxBars()).filter((b) => b.date <= '2002-07-18');
      const forecast = await new ArimaForecaster().forecast({ symbol: 'SPX', bars, asOf: '2002-07-18' });
      process.stdout.write(JSON.stringify(forecast.details.order));`;
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: `${import.meta.dirname}/..`,
    });
    expect(stderr).toBe('');
    expect(stdout).toBe('{"p":2,"d":1,"q":2}');
  });
});

describe('TechnicalForecaster on the S&P 500', () => {
  const technical = new TechnicalForecaster();

  /** RSI, MACD histogram and volatility at the last bar, from the indicators. */
  function indicatorsAt(series: readonly DailyBar[]) {
    const closes = series.map((b) => b.close);
    return { rsi: last(rsi(closes)), histogram: last(macdHistogram(closes)), sigma: last(volatility(closes)) };
  }

  /** Half a standard deviation of the k-session move, in the given direction. */
  const halfSd = (sign: number, sigma: number) => [1, 2, 3, 4, 5].map((k) => sign * 0.5 * sigma * Math.sqrt(k));

  it('2008-10-10, RSI 22.98 (oversold): up, with 0.55 plus 0.10 per 20 RSI points below 30', async () => {
    const series = upTo('2008-10-10');
    const at = indicatorsAt(series);
    expect(at.rsi).toBeCloseTo(22.9824, 4);
    expect(at.histogram).toBeLessThan(0); // MACD says down; the RSI rule wins.
    const forecast = await technical.forecast(inputOf(series));
    expect(forecast).toMatchObject({ source: 'technical', modelVersion: null, direction: 1 });
    expect(forecast.probUp).toBe(0.5 + 0.05 + (0.1 * (30 - at.rsi)) / 20);
    expect(forecast.probUp).toBeCloseTo(0.5851, 4);
    expect(forecast.expectedReturns).toEqual(halfSd(1, at.sigma));
    expect(forecast.details).toEqual({ rule: 'rsi-oversold', rsi: at.rsi, macdHistogram: at.histogram, volatility: at.sigma });
  });

  it('2018-01-26, RSI 86.69 (overbought, the highest in the file): down, with 0.45 less 0.10 per 20 points above 70', async () => {
    const series = upTo('2018-01-26');
    const at = indicatorsAt(series);
    expect(at.rsi).toBeCloseTo(86.6866, 4);
    expect(at.histogram).toBeGreaterThan(0);
    const forecast = await technical.forecast(inputOf(series));
    expect(forecast.direction).toBe(0);
    expect(forecast.probUp).toBe(0.5 - (0.05 + (0.1 * (at.rsi - 70)) / 20));
    expect(forecast.probUp).toBeCloseTo(0.3666, 4);
    expect(forecast.expectedReturns).toEqual(halfSd(-1, at.sigma));
    expect(forecast.details['rule']).toBe('rsi-overbought');
  });

  it.each([
    { asOf: '2013-01-18', rsi: 69.0592, sign: 1, probUp: 0.55 },
    { asOf: '2015-06-30', rsi: 37.6737, sign: -1, probUp: 0.45 },
  ])('$asOf, RSI between 30 and 70: the MACD histogram decides', async ({ asOf, rsi: expectedRsi, sign, probUp }) => {
    const series = upTo(asOf);
    const at = indicatorsAt(series);
    expect(at.rsi).toBeCloseTo(expectedRsi, 4);
    expect(Math.sign(at.histogram)).toBe(sign);
    const forecast = await technical.forecast(inputOf(series));
    expect(forecast.probUp).toBe(probUp);
    expect(forecast.direction).toBe(sign > 0 ? 1 : 0);
    expect(forecast.expectedReturns).toEqual(halfSd(sign, at.sigma));
    expect(forecast.details['rule']).toBe('macd-histogram');
  });

  it('never claims more than 0.65: a close that falls every session (RSI 0)', async () => {
    const falling = bars.slice(0, 60).map((b, i) => {
      const close = 1000 * 0.99 ** i;
      return { ...b, open: close, high: close, low: close, close };
    });
    expect(last(rsi(falling.map((b) => b.close)))).toBe(0);
    const forecast = await technical.forecast(inputOf(falling));
    expect(forecast.probUp).toBe(0.5 + 0.05 + 0.1);
  });

  it('needs 50 sessions (the SMA 50 of the technical score): 49 are unavailable, 50 forecast', async () => {
    expect((await unavailable(technical.forecast(inputOf(bars.slice(0, 49))))).reason).toBe(
      '49 sessions of history; the technical indicators need at least 50',
    );
    expect((await technical.forecast(inputOf(bars.slice(0, 50)))).expectedReturns).toHaveLength(5);
    expect(() => technicalScore(bars.slice(0, 49))).toThrow(RangeError);
  });
});

describe('technicalScore', () => {
  /** The four parts computed by hand from the indicators at the last bar. */
  function parts(series: readonly DailyBar[]) {
    const closes = series.map((b) => b.close);
    const { upper, lower } = bollingerBands(closes);
    const close = last(closes);
    const position = (close - last(lower)) / (last(upper) - last(lower));
    return {
      rsi: Math.min(1, Math.max(0, (70 - last(rsi(closes))) / 40)),
      macd: last(macdHistogram(closes)) > 0 ? 1 : 0,
      bollinger: 1 - Math.min(1, Math.max(0, position)),
      trend: close > last(sma(closes, 50)) ? 1 : 0,
    };
  }

  it('2008-10-10: oversold and below the lower band (bullish parts), MACD and trend down: 0.5', () => {
    const series = upTo('2008-10-10');
    // RSI 22.98 ≤ 30; close 899.22 below the lower band 921.92; histogram −26.65; SMA 50 1213.80.
    expect(parts(series)).toEqual({ rsi: 1, macd: 0, bollinger: 1, trend: 0 });
    expect(technicalScore(series)).toBe(0.5);
  });

  it('2020-04-17: RSI 57.36, MACD up, 88% up the bands, above SMA 50', () => {
    const series = upTo('2020-04-17');
    const p = parts(series);
    expect(p.rsi).toBeCloseTo((70 - 57.362696) / 40, 6);
    expect(p.bollinger).toBeCloseTo(1 - 0.878864, 6);
    expect(p).toMatchObject({ macd: 1, trend: 1 });
    // The score reads only the last FEATURE_HISTORY + 1 bars; the recursive indicators agree with the full history to ~1e-15.
    expect(technicalScore(series)).toBeCloseTo((p.rsi + p.macd + p.bollinger + p.trend) / 4, 12);
    expect(technicalScore(series)).toBeCloseTo(0.609267, 6);
  });
});

describe('the fallback chain and an unavailable database', () => {
  it('stops with DatabaseUnavailableError instead of falling back with the server named among the reasons', async () => {
    const bars = (await spxBars()).filter((b) => b.date <= '2019-12-31');
    const input = { symbol: 'SPX', bars, asOf: '2019-12-31' };
    const unavailable = new DatabaseUnavailableError('mysql://db.internal:3306/lstm', 'connect ECONNREFUSED');
    // The LSTM tier reads its model from the store; here the store is down.
    const storeDown = { source: 'lstm' as const, forecast: async (): Promise<Forecast> => Promise.reject(unavailable) };
    await expect(forecastWithFallback([storeDown, new TechnicalForecaster()], input)).rejects.toBe(unavailable);
    // Any other failure of a tier still falls through, recorded.
    const broken = { source: 'lstm' as const, forecast: async (): Promise<Forecast> => Promise.reject(new Error('a bug')) };
    expect((await forecastWithFallback([broken, new TechnicalForecaster()], input)).fallbackReasons).toEqual([{ source: 'lstm', reason: 'a bug' }]);
  });
});
