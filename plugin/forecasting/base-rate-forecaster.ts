/**
 * The last tier when no other has shown skill: the climatology, the reference forecast of forecast
 * verification. P(up) = the up-rate of the FORECAST_DAYS-session moves completed in the last `lookback`
 * sessions before the as-of session; the expected k-session return is the mean k-session move over the same
 * sessions. It makes no call: its signal is HOLD with confidence 1, and says that nothing has shown skill.
 */
import { FORECAST_DAYS } from '../training/constants.js';
import { ForecastUnavailable, makeForecast, type Forecast, type ForecastInput, type Forecaster } from './forecast.js';

/** About five years of sessions, as the weekly training's lookback. */
export const BASE_RATE_LOOKBACK = 1260;
/** Fewer completed moves are no base rate. */
const MIN_MOVES = 20;

export class BaseRateForecaster implements Forecaster {
  readonly source = 'base_rate';

  async forecast(input: ForecastInput): Promise<Forecast> {
    const closes = input.bars.slice(-BASE_RATE_LOOKBACK).map((b) => b.close);
    // Moves from t to t + k whose end is at or before the as-of session.
    const starts = closes.length - FORECAST_DAYS;
    if (starts < MIN_MOVES) {
      throw new ForecastUnavailable('base_rate', `${closes.length} sessions of history; a base rate needs at least ${MIN_MOVES + FORECAST_DAYS}`);
    }
    let ups = 0;
    const sums = new Array<number>(FORECAST_DAYS).fill(0);
    for (let t = 0; t < starts; t++) {
      if (closes[t + FORECAST_DAYS]! > closes[t]!) ups++;
      for (let k = 1; k <= FORECAST_DAYS; k++) sums[k - 1]! += closes[t + k]! / closes[t]! - 1;
    }
    return makeForecast(input, 'base_rate', {
      probUp: ups / starts,
      expectedReturns: sums.map((sum) => sum / starts),
      details: { moves: starts, reason: `no forecaster has shown skill on ${input.symbol}` },
    });
  }
}
