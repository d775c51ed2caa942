/** The fallback chain: the first forecaster that answers wins, and the forecast says why the others did not. */
import { DatabaseUnavailableError } from '../store/errors.js';
import { ForecastUnavailable, type Forecast, type ForecastInput, type Forecaster, type ForecastSource } from './forecast.js';

/** No tier of the chain could answer; `reasons` lists each tier's reason in order. */
export class NoForecastError extends Error {
  constructor(
    readonly symbol: string,
    readonly asOf: string,
    readonly reasons: Array<{ source: ForecastSource; reason: string }>,
  ) {
    super(`no model could forecast ${symbol} at ${asOf}: ${reasons.map((r) => `${r.source}: ${r.reason}`).join('; ')}`);
    this.name = 'NoForecastError';
  }
}

export async function forecastWithFallback(chain: readonly Forecaster[], input: ForecastInput): Promise<Forecast> {
  const last = input.bars[input.bars.length - 1];
  if (!last || last.date !== input.asOf) {
    throw new Error(`${input.symbol}: forecast as of ${input.asOf} needs bars ending on that session (last bar ${last?.date ?? 'none'})`);
  }
  const reasons: Forecast['fallbackReasons'] = [];
  for (const forecaster of chain) {
    try {
      const forecast = await forecaster.forecast(input);
      return { ...forecast, fallbackReasons: reasons };
    } catch (error) {
      // An unavailable database is no tier's failure: the prediction cannot be logged either, and its message names
      // the server, which a signal's reasons must not carry.
      if (error instanceof DatabaseUnavailableError) throw error;
      // Any other failure of one tier (including a bug in a model library) moves on to the next tier, recorded.
      const reason = error instanceof ForecastUnavailable ? error.reason : error instanceof Error ? error.message : String(error);
      reasons.push({ source: forecaster.source, reason });
    }
  }
  throw new NoForecastError(input.symbol, input.asOf, reasons);
}
