/**
 * Performance decay: the mean error_magnitude of the last `nRecent` accuracy records against the mean of
 * every record before them (the baseline excludes the recent window, so a decay cannot raise its own bar).
 * Triggered when recent > historical × multiplier, and only when every recent record scores a prediction made
 * after the last decay retraining was decided: the retrained model is judged on its own predictions, not
 * retrained again, session after session, for the errors of the model it replaced.
 */
import type { Store } from '../store/store.js';
import { LIVE_SET } from '../signals/prediction-log.js';

export interface DecaySettings {
  /** The prediction set whose accuracy records are judged. */
  predictionSet: string;
  nRecent: number;
  multiplier: number;
  /** Fewer earlier records than this is no baseline: not triggered, and the result says so. */
  minHistorical: number;
}

export const DEFAULT_DECAY: DecaySettings = { predictionSet: LIVE_SET, nRecent: 20, multiplier: 1.5, minHistorical: 20 };

export interface DecayResult {
  triggered: boolean;
  recent_avg_error: number | null;
  historical_avg_error: number | null;
  threshold: number | null;
  n_recent_samples: number;
  n_historical_samples: number;
  detected_at: string;
  reason: string;
}

/** One accuracy record as the check sees it: its error and the session the prediction was made on. */
export interface ScoredPrediction {
  error: number;
  predictDate: string;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * `records`: the accuracy records, oldest first; `retrainedAt`: the session of the last decay retraining, if
 * any. `at`: when the check ran (reported, not used).
 */
export function detectDecay(
  records: readonly ScoredPrediction[],
  retrainedAt: string | undefined,
  settings: Omit<DecaySettings, 'predictionSet'> = DEFAULT_DECAY,
  at = new Date(),
): DecayResult {
  const errors = records.map((r) => r.error);
  const recent = errors.slice(-settings.nRecent);
  const historical = errors.slice(0, Math.max(0, errors.length - settings.nRecent));
  const base = { n_recent_samples: recent.length, n_historical_samples: historical.length, detected_at: at.toISOString() };
  if (recent.length < settings.nRecent || historical.length < settings.minHistorical) {
    return {
      triggered: false,
      recent_avg_error: recent.length ? mean(recent) : null,
      historical_avg_error: historical.length ? mean(historical) : null,
      threshold: null,
      ...base,
      reason: `not enough accuracy records: ${recent.length}/${settings.nRecent} recent, ${historical.length}/${settings.minHistorical} earlier`,
    };
  }
  const recentAvg = mean(recent);
  const historicalAvg = mean(historical);
  const threshold = historicalAvg * settings.multiplier;
  const above = recentAvg > threshold;
  const comparison = `recent mean error ${recentAvg.toPrecision(4)} ${above ? '>' : '≤'} ${settings.multiplier} × historical ${historicalAvg.toPrecision(4)} = ${threshold.toPrecision(4)}`;
  const since = records.slice(-settings.nRecent).filter((r) => retrainedAt === undefined || r.predictDate > retrainedAt).length;
  const judged = since === settings.nRecent;
  return {
    triggered: above && judged,
    recent_avg_error: recentAvg,
    historical_avg_error: historicalAvg,
    threshold,
    ...base,
    reason: judged || !above
      ? comparison
      : `${comparison}, but only ${since} of the ${settings.nRecent} recent records score predictions made after the decay retraining of ${retrainedAt}: not triggered until all are`,
  };
}

/** Runs the check on the symbol's live accuracy records; with `log`, stores it in `lstm_performance_check`. */
export async function checkDecay(store: Store, symbol: string, settings: DecaySettings, options: { log?: boolean; at?: Date } = {}): Promise<DecayResult> {
  const records = await store.repos.accuracyRecord.find({
    where: { symbol, prediction_set: settings.predictionSet },
    order: { actual_date: 'ASC', id: 'ASC' },
    select: { error_magnitude: true, predict_date: true },
  });
  const lastRetraining = await store.repos.triggerDecision.findOne({
    where: { symbol, trigger_type: 'performance_decay' },
    order: { session: 'DESC' },
  });
  const scored = records.map((r) => ({ error: r.error_magnitude, predictDate: r.predict_date }));
  const result = detectDecay(scored, lastRetraining?.session, settings, options.at);
  if (options.log) {
    await store.repos.performanceCheck.save({
      symbol,
      triggered: result.triggered,
      recent_avg_error: result.recent_avg_error,
      historical_avg_error: result.historical_avg_error,
      threshold: result.threshold,
      multiplier: settings.multiplier,
      n_recent_samples: result.n_recent_samples,
      n_historical_samples: result.n_historical_samples,
      detected_at: new Date(result.detected_at),
    });
  }
  return result;
}
