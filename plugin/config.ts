/** Plugin configuration: validated against the JSON Schema declared in manifest.json, defaults filled in. */
import { Ajv } from 'ajv';
import type { BarRules } from './bar-series-checks.js';
import { manifest } from './manifest.js';
import type { GradingRulesConfig } from './signals/grading.js';
import type { CalibrationMethod } from './skill/calibration-map.js';
import type { DatabaseTimeouts } from './store/store.js';

export interface TrainingParams {
  lr: number;
  hidden: number;
  epochs: number;
}

/** Field meanings and defaults: manifest.json, `contributes.configuration.properties.training`. */
export interface TrainingSettings {
  param_grid: { lr: number[]; hidden: number[]; epochs: number[] };
  search: 'grid' | 'halving';
  fast_params: TrainingParams;
  cv_splits: number;
  cv_splits_short: number;
  short_data_samples: number;
  holdout_sessions: number;
  incremental_sessions: number;
  incremental_epochs: number;
  batch_size: number;
  dropout: number;
  seed: number;
  min_f1_improvement: number;
  min_mse_ratio: number;
  max_versions: number;
  importance_repeats: number;
  skill_gate: boolean;
  min_skill: number;
  skill_alpha: number;
  gate_min_sessions: number;
  calibration: CalibrationMethod;
  arima_baseline: boolean;
}

export interface WeeklySettings {
  cache_days: number;
  training_mode: 'full' | 'fast';
  lookback_sessions: number;
  output_dir: string;
}

/** Field meanings and defaults: manifest.json, `contributes.configuration.properties.alerts`. */
export interface AlertsConfig {
  accuracy_window: number;
  consecutive_errors: number;
  high_error_factor: number;
  max_training_failures: number;
  cooldown_hours: number;
  timeout_ms: number;
  retries: number;
  backoff_ms: number;
  max_backoff_ms: number;
  max_age_hours: number;
  delivery: boolean;
}

export interface TriggerSettings {
  enabled: boolean;
  runner: 'child-process' | 'inline';
  full_mode: 'full' | 'fast';
  lookback_sessions: number | null;
  concurrency: number;
}

/** Field meanings and defaults: manifest.json, `contributes.configuration.properties.queue`. */
export interface QueueSettings {
  /** redis://… for the BullMQ engine; null for the embedded one. */
  url: string | null;
  name: string;
  run_jobs: boolean;
  lease_ms: number;
  poll_ms: number;
  max_attempts: number;
  job_timeout_ms: number;
  fan_out: boolean;
}

export interface PluginConfig {
  db_url?: string;
  db_timeouts: DatabaseTimeouts;
  migrate_on_start: boolean;
  symbols: string[];
  strict_bars: boolean;
  bars: BarRules;
  feature_names: string[];
  training: TrainingSettings;
  use_fallback: boolean;
  max_days_without_training: number;
  /** Overridden by the environment variable LSTM_ALERT_WEBHOOK. */
  webhook_url?: string;
  performance_decay_multiplier: number;
  alerts: AlertsConfig;
  weekly: WeeklySettings;
  triggers: TriggerSettings;
  queue: QueueSettings;
  /** Unfinished earlier sessions a session close processes first (see manifest.json). */
  catch_up_sessions: number;
  prediction_set: string;
  /** Folder of the walk-forward backtests' databases (NAME.sqlite), which GET /api/lstm/backtests/:id reads. */
  backtests_dir: string;
  signals: GradingRulesConfig;
}

/** Configuration as callers write it: any key may be left out, nested ones too. */
export type PluginConfigInput = Partial<Omit<PluginConfig, 'training' | 'weekly' | 'signals' | 'alerts' | 'triggers' | 'bars' | 'db_timeouts' | 'queue'>> & {
  queue?: Partial<QueueSettings>;
  db_timeouts?: Partial<DatabaseTimeouts>;
  bars?: Partial<BarRules>;
  training?: Partial<TrainingSettings>;
  signals?: Partial<GradingRulesConfig>;
  weekly?: Partial<WeeklySettings>;
  triggers?: Partial<TriggerSettings>;
  alerts?: Partial<AlertsConfig>;
};

const validate = new Ajv({ useDefaults: true, allErrors: true }).compile(manifest.contributes.configuration);

/** Returns a complete configuration, or throws one error listing every invalid field by name. */
export function resolveConfig(input: PluginConfigInput = {}): PluginConfig {
  const config = structuredClone(input) as Record<string, unknown>;
  if (!validate(config)) {
    const problems = (validate.errors ?? []).map((e) => {
      // An unknown key is reported on its parent object; name the key itself.
      const path = [...e.instancePath.split('/').slice(1), ...(e.params.additionalProperty ? [String(e.params.additionalProperty)] : [])];
      return `${path.join('.') || '(root)'}: ${e.message}`;
    });
    throw new Error(`invalid lstm-signals configuration: ${problems.join('; ')}`);
  }
  return config as unknown as PluginConfig;
}
