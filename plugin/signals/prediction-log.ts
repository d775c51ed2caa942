/**
 * Every prediction, written once: predicting the same symbol, session, source and model again finds the
 * row already there and leaves it as it was — a logged prediction is history and is never rewritten.
 */
import type { Forecast } from '../forecasting/forecast.js';
import type { PredictionLogRow } from '../store/entities.js';
import { isDuplicateKey } from '../store/errors.js';
import type { Store } from '../store/store.js';
import type { Signal } from './signal.js';

export const LIVE_SET = 'live';

export class PredictionLog {
  constructor(private readonly store: Store) {}

  /** Logs the signal's prediction; `created` is false when this exact prediction was logged before. */
  async record(forecast: Forecast, signal: Signal, predictionSet = LIVE_SET): Promise<{ row: PredictionLogRow; created: boolean }> {
    const key = {
      prediction_set: predictionSet,
      symbol: forecast.symbol,
      predict_date: forecast.asOf,
      source: forecast.source,
      model_version_id: forecast.modelVersion ?? '',
    };
    let created = true;
    try {
      await this.store.repos.predictionLog.save({
        ...key,
        direction: forecast.direction,
        magnitude: forecast.magnitude,
        prob_up: forecast.probUp,
        signal_json: signal as unknown as Record<string, unknown>,
      });
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      created = false;
    }
    return { row: await this.store.repos.predictionLog.findOneByOrFail(key), created };
  }

  /** The newest logged prediction of each symbol in the set (newest session; for one session, the latest written). */
  async latest(predictionSet = LIVE_SET): Promise<PredictionLogRow[]> {
    const rows = await this.store.repos.predictionLog.find({ where: { prediction_set: predictionSet }, order: { symbol: 'ASC', predict_date: 'DESC', id: 'DESC' } });
    const seen = new Set<string>();
    return rows.filter((r) => !seen.has(r.symbol) && seen.add(r.symbol));
  }
}
