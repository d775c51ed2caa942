/** Gathers one symbol's alert input from the tables, at a session. */
import type { PluginConfig } from '../config.js';
import { checkModelHealth } from '../forecasting/lstm-forecaster.js';
import { ModelRegistry } from '../registry/model-registry.js';
import { TrainingLog } from '../registry/training-log.js';
import type { Store } from '../store/store.js';
import { accuracyRecordsNeeded, alertSettingsFromConfig, checkAlerts, type AlertCandidate, type AlertInput } from './alert-rules.js';
import { baselineHits } from './baseline-comparison.js';
import type { DecayResult } from './decay.js';

export async function gatherAlertInput(store: Store, config: PluginConfig, symbol: string, asOf: string, decay: DecayResult): Promise<AlertInput> {
  const registry = new ModelRegistry(store);
  const health = await checkModelHealth(registry, symbol, asOf, config.max_days_without_training);
  const latest = await store.repos.accuracyRecord.find({
    where: { symbol, prediction_set: config.prediction_set },
    order: { actual_date: 'DESC', id: 'DESC' },
    take: accuracyRecordsNeeded(alertSettingsFromConfig(config)),
  });
  return {
    symbol,
    as_of: asOf,
    decay,
    days_since_training: health.age_days,
    recent_accuracy: latest.reverse().map((r) => ({ correct: r.direction_correct, baselines: baselineHits(r.baselines_json, r.actual_direction), error_magnitude: r.error_magnitude })),
    training_failures: await new TrainingLog(store).countFailuresSince(symbol, (await registry.current(symbol))?.training_time),
  };
}

/** The alerts active for a symbol at a session. */
export async function activeAlerts(store: Store, config: PluginConfig, symbol: string, asOf: string, decay: DecayResult): Promise<AlertCandidate[]> {
  return checkAlerts(await gatherAlertInput(store, config, symbol, asOf, decay), alertSettingsFromConfig(config));
}
