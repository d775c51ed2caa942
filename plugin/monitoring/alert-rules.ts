/**
 * The five alerts of the original system, as one pure function over what the caller gathered for a symbol
 * (decay check, model age, latest accuracy records, training failures). No database, no clock.
 *
 * | type                   | fires when                                                                 | severity                          |
 * |------------------------|----------------------------------------------------------------------------|-----------------------------------|
 * | performance_decay      | the symbol's decay check triggered                                         | warning                           |
 * | no_recent_training     | no model, or its data ends more than max_days_without_training days before as_of | critical without a model, else warning |
 * | low_accuracy           | hit rate of the last accuracy_window records < the best naive baseline's on the same sessions (needs that many records, with baselines) | warning |
 * | consecutive_high_error | the last consecutive_errors records all have error > high_error_factor × the decay baseline | warning |
 * | training_failure_count | ≥ max_training_failures failures since the last successful training        | critical                          |
 */
import type { AlertsConfig, PluginConfig } from '../config.js';
import { compareWithBestBaseline, type ScoredHit } from './baseline-comparison.js';
import type { DecayResult } from './decay.js';

export type AlertType = 'performance_decay' | 'no_recent_training' | 'low_accuracy' | 'consecutive_high_error' | 'training_failure_count';
export type AlertSeverity = 'warning' | 'critical';

export interface AlertCandidate {
  /**
   * One of the rules above; `alert_expired` (raised by the alert service for an alert it could not deliver in time);
   * `model_corrupted` (raised by the weekly run for a current model whose stored bytes fail their checksum).
   */
  alert_type: AlertType | 'alert_expired' | 'model_corrupted';
  /** Null only for an expiry alert about an alert without a symbol. */
  symbol: string | null;
  severity: AlertSeverity;
  /** For people: names the symbol and the numbers that fired it. */
  message: string;
  /** The same numbers, for machines. */
  details: Record<string, unknown>;
  /** `type:symbol`: the same alert for the same symbol is one alert for the re-send cool-down. */
  dedupe_key: string;
}

export type DecaySummary = Pick<
  DecayResult,
  'triggered' | 'recent_avg_error' | 'historical_avg_error' | 'threshold' | 'n_recent_samples' | 'n_historical_samples'
>;

export interface AccuracySample extends ScoredHit {
  error_magnitude: number;
}

/** One symbol's state at one session; every field can be read from the store (see each field). */
export interface AlertInput {
  symbol: string;
  /** The session the input describes (YYYY-MM-DD). */
  as_of: string;
  /** `checkDecay` on the symbol's live accuracy records; null when no check was run. */
  decay: DecaySummary | null;
  /** Calendar days from the current model's data_end to as_of (`checkModelHealth(...).age_days`); null = no model. */
  days_since_training: number | null;
  /** The symbol's latest live accuracy records, oldest first: at least `accuracyRecordsNeeded(settings)` when that many exist. */
  recent_accuracy: readonly AccuracySample[];
  /** Rows of lstm_training_failure since the symbol's latest lstm_training_run (every run there completed); all when none. */
  training_failures: number;
}

export type AlertSettings = Pick<PluginConfig, 'max_days_without_training'> &
  Pick<AlertsConfig, 'accuracy_window' | 'consecutive_errors' | 'high_error_factor' | 'max_training_failures'>;

export function alertSettingsFromConfig(config: PluginConfig): AlertSettings {
  const { accuracy_window, consecutive_errors, high_error_factor, max_training_failures } = config.alerts;
  return { max_days_without_training: config.max_days_without_training, accuracy_window, consecutive_errors, high_error_factor, max_training_failures };
}

/** How many of the latest accuracy records `recent_accuracy` must carry for every rule to see its window. */
export function accuracyRecordsNeeded(settings: AlertSettings): number {
  return Math.max(settings.accuracy_window, settings.consecutive_errors);
}

const percent = (fraction: number, digits = 2) => `${(fraction * 100).toFixed(digits)}%`;

type Rule = (input: AlertInput, settings: AlertSettings) => Omit<AlertCandidate, 'alert_type' | 'symbol' | 'dedupe_key'> | null;

const RULES: Record<AlertType, Rule> = {
  performance_decay({ symbol, decay }) {
    if (!decay?.triggered) return null;
    const { recent_avg_error, historical_avg_error, threshold, n_recent_samples, n_historical_samples } = decay;
    return {
      severity: 'warning',
      message:
        `${symbol}: performance decay: mean error of the last ${n_recent_samples} predictions ${percent(recent_avg_error!)} > threshold ${percent(threshold!)}` +
        ` (historical mean ${percent(historical_avg_error!)} over ${n_historical_samples} predictions)`,
      details: { recent_avg_error, historical_avg_error, threshold, n_recent_samples, n_historical_samples },
    };
  },

  no_recent_training({ symbol, as_of, days_since_training }, { max_days_without_training }) {
    const details = { days_since_training, max_days_without_training, as_of };
    // Without a model every signal comes from the fallbacks: that is worse than a stale model.
    if (days_since_training === null) return { severity: 'critical', message: `${symbol}: no trained model at ${as_of}`, details };
    if (days_since_training <= max_days_without_training) return null;
    return {
      severity: 'warning',
      message: `${symbol}: the model's data ends ${days_since_training} days before ${as_of} (max_days_without_training ${max_days_without_training})`,
      details,
    };
  },

  low_accuracy({ symbol, recent_accuracy }, { accuracy_window }) {
    // Fewer records than the window (or records without their baselines) is no evidence either way.
    if (recent_accuracy.length < accuracy_window) return null;
    const c = compareWithBestBaseline(recent_accuracy.slice(-accuracy_window));
    if (!c || c.hit_rate >= c.best_baseline_hit_rate) return null;
    return {
      severity: 'warning',
      message:
        `${symbol}: hit rate ${percent(c.hit_rate, 1)} (${c.hits} of the last ${c.n} predictions) < ${c.best_baseline}'s ` +
        `${percent(c.best_baseline_hit_rate, 1)} on the same sessions (McNemar p ${c.mcnemar_p.toPrecision(2)})`,
      details: { ...c },
    };
  },

  consecutive_high_error({ symbol, decay, recent_accuracy }, { consecutive_errors, high_error_factor }) {
    // The decay check's baseline, and only when that check had records enough to set its own threshold.
    const baseline = decay?.threshold == null ? null : decay.historical_avg_error;
    if (baseline == null || recent_accuracy.length < consecutive_errors) return null;
    const limit = high_error_factor * baseline;
    const errors = recent_accuracy.slice(-consecutive_errors).map((r) => r.error_magnitude);
    if (!errors.every((e) => e > limit)) return null;
    return {
      severity: 'warning',
      message:
        `${symbol}: each of the last ${consecutive_errors} predictions missed by more than ${percent(limit)}` +
        ` (${high_error_factor} × historical mean error ${percent(baseline)}); smallest miss ${percent(Math.min(...errors))}`,
      details: { errors, limit, historical_avg_error: baseline, high_error_factor, consecutive_errors },
    };
  },

  training_failure_count({ symbol, training_failures }, { max_training_failures }) {
    if (training_failures < max_training_failures) return null;
    return {
      severity: 'critical',
      message: `${symbol}: ${training_failures} training failures since the last successful training (alert at ${max_training_failures})`,
      details: { training_failures, max_training_failures },
    };
  },
};

/** The alerts `input` raises, in the order of the table above. */
export function checkAlerts(input: AlertInput, settings: AlertSettings): AlertCandidate[] {
  return (Object.keys(RULES) as AlertType[]).flatMap((alert_type) => {
    const fired = RULES[alert_type](input, settings);
    return fired ? [{ alert_type, symbol: input.symbol, ...fired, dedupe_key: `${alert_type}:${input.symbol}` }] : [];
  });
}
