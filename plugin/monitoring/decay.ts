/**
 * Performance decay, on the last `nRecent` accuracy records. Two rules, either fires:
 * - error: their mean error_magnitude > multiplier × the mean of every record before them (the history
 *   excludes the recent window, so a decay cannot raise its own bar; needs `minHistorical` earlier records);
 * - baseline: their hit rate is significantly below the best naive baseline's on the same sessions (exact
 *   McNemar, two-sided at `alpha`): the forecasts have become worse than a rule of thumb.
 * Triggered only when every recent record scores a prediction made after the last decay retraining was
 * decided: the retrained model is judged on its own predictions, not retrained again, session after
 * session, for the errors of the model it replaced.
 */
import type { Store } from '../store/store.js';
import { LIVE_SET } from '../signals/prediction-log.js';
import { baselineHits, compareWithBestBaseline, type BaselineComparison, type ScoredHit } from './baseline-comparison.js';

export interface DecaySettings {
  /** The prediction set whose accuracy records are judged. */
  predictionSet: string;
  nRecent: number;
  multiplier: number;
  /** Fewer earlier records than this is no history for the error rule. */
  minHistorical: number;
  /** Significance level of the baseline rule. */
  alpha: number;
}

export const DEFAULT_DECAY: DecaySettings = { predictionSet: LIVE_SET, nRecent: 20, multiplier: 1.5, minHistorical: 20, alpha: 0.05 };

export interface DecayResult {
  triggered: boolean;
  recent_avg_error: number | null;
  historical_avg_error: number | null;
  threshold: number | null;
  n_recent_samples: number;
  n_historical_samples: number;
  /** The recent window beside its best baseline; null while the window is short or lacks baselines. */
  baseline: BaselineComparison | null;
  detected_at: string;
  reason: string;
}

/** One accuracy record as the check sees it: its error, its hits, and the session the prediction was made on. */
export interface ScoredPrediction extends ScoredHit {
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
  const window = records.slice(-settings.nRecent);
  const recent = errors.slice(-settings.nRecent);
  const historical = errors.slice(0, Math.max(0, errors.length - settings.nRecent));
  const full = recent.length === settings.nRecent;
  const baseline = full ? compareWithBestBaseline(window) : null;
  const base = { n_recent_samples: recent.length, n_historical_samples: historical.length, baseline, detected_at: at.toISOString() };
  const recentAvg = recent.length ? mean(recent) : null;
  const historicalAvg = historical.length ? mean(historical) : null;
  if (!full) {
    return { triggered: false, recent_avg_error: recentAvg, historical_avg_error: historicalAvg, threshold: null, ...base, reason: `not enough accuracy records: ${recent.length}/${settings.nRecent} recent` };
  }
  const findings: string[] = [];
  let fired = false;
  const threshold = historical.length >= settings.minHistorical ? historicalAvg! * settings.multiplier : null;
  if (threshold === null) {
    findings.push(`error rule: ${historical.length}/${settings.minHistorical} earlier records, no history yet`);
  } else {
    const above = recentAvg! > threshold;
    fired ||= above;
    findings.push(`recent mean error ${recentAvg!.toPrecision(4)} ${above ? '>' : '≤'} ${settings.multiplier} × historical ${historicalAvg!.toPrecision(4)} = ${threshold.toPrecision(4)}`);
  }
  if (baseline) {
    const below = baseline.hit_rate < baseline.best_baseline_hit_rate && baseline.mcnemar_p < settings.alpha;
    fired ||= below;
    findings.push(
      `hit rate ${baseline.hits}/${baseline.n} ${below ? 'significantly below' : 'not significantly below'} ${baseline.best_baseline}'s ` +
        `${baseline.best_baseline_hits}/${baseline.n} on the same sessions (McNemar p ${baseline.mcnemar_p.toPrecision(2)}, alpha ${settings.alpha})`,
    );
  }
  const since = window.filter((r) => retrainedAt === undefined || r.predictDate > retrainedAt).length;
  const judged = since === settings.nRecent;
  return {
    triggered: fired && judged,
    recent_avg_error: recentAvg,
    historical_avg_error: historicalAvg,
    threshold,
    ...base,
    reason:
      findings.join('; ') +
      (fired && !judged ? `; but only ${since} of the ${settings.nRecent} recent records score predictions made after the decay retraining of ${retrainedAt}: not triggered until all are` : ''),
  };
}

/** Runs the check on the symbol's live accuracy records; with `log`, stores it in `lstm_performance_check`. */
export async function checkDecay(store: Store, symbol: string, settings: DecaySettings, options: { log?: boolean; at?: Date } = {}): Promise<DecayResult> {
  const records = await store.repos.accuracyRecord.find({
    where: { symbol, prediction_set: settings.predictionSet },
    order: { actual_date: 'ASC', id: 'ASC' },
    select: { error_magnitude: true, predict_date: true, direction_correct: true, actual_direction: true, baselines_json: true },
  });
  const lastRetraining = await store.repos.triggerDecision.findOne({
    where: { symbol, trigger_type: 'performance_decay' },
    order: { session: 'DESC' },
  });
  const scored = records.map((r) => ({
    error: r.error_magnitude,
    predictDate: r.predict_date,
    correct: r.direction_correct,
    baselines: baselineHits(r.baselines_json, r.actual_direction),
  }));
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
