/**
 * The monitoring status of every followed symbol, as the original's status page shows it: current
 * version, last training, data range, validation scores, predictions in the last 7 days, recent vs
 * historical error, MAE / RMSE, the hit rate beside the best baseline, training failures, the last decay check — plus
 * the queue and the backend. "Last 7 days" is measured back from the symbol's latest bar, not the wall clock.
 */
import { MoreThanOrEqual } from 'typeorm';
import { addCalendarDays } from '../calendar.js';
import type { PluginConfig } from '../config.js';
import { currentBackend, type BackendInfo } from '../model/backend.js';
import { ModelRegistry } from '../registry/model-registry.js';
import { TrainingLog } from '../registry/training-log.js';
import { BarStore } from '../store/bar-store.js';
import type { AccuracyRecordRow, PerformanceCheckRow } from '../store/entities.js';
import { wilsonInterval, type Interval } from '../skill/stats.js';
import { baselineHits, compareWithBestBaseline } from './baseline-comparison.js';
import type { Store } from '../store/store.js';
import { checkDecay, type DecayResult, type DecaySettings } from './decay.js';

export interface SymbolStatus {
  symbol: string;
  last_bar: string;
  current_version: string | null;
  last_training_time: string | null;
  data_start: string | null;
  data_end: string | null;
  validation: { deployed: boolean; reason: string | null; holdout: Record<string, unknown> | null } | null;
  predictions_last_7_days: number;
  accuracy_records: number;
  mae: number | null;
  rmse: number | null;
  /**
   * The hit rate of every backfilled prediction with its Wilson interval, beside the best naive baseline on the same
   * sessions (records written before baselines were kept are left out); null without such records.
   */
  hit_rate: { n: number; hit_rate: number; hit_rate_interval: Interval; best_baseline: { name: string; hit_rate: number; hit_rate_interval: Interval }; mcnemar_p: number } | null;
  decay: DecayResult;
  training_failures: number;
  last_decay_check: PerformanceCheckRow | null;
}

export interface MonitoringStatus<Queue = unknown> {
  generated_at: string;
  backend: BackendInfo | null;
  queue: Queue | null;
  symbols: SymbolStatus[];
}

export function decaySettings(config: PluginConfig): DecaySettings {
  return { predictionSet: config.prediction_set, nRecent: 20, multiplier: config.performance_decay_multiplier, minHistorical: 20, alpha: config.training.skill_alpha };
}

function hitRateBesideBaseline(records: readonly AccuracyRecordRow[]): SymbolStatus['hit_rate'] {
  const scored = records.map((r) => ({ correct: r.direction_correct, baselines: baselineHits(r.baselines_json, r.actual_direction) })).filter((r) => r.baselines);
  const c = compareWithBestBaseline(scored);
  return (
    c && {
      n: c.n,
      hit_rate: c.hit_rate,
      hit_rate_interval: wilsonInterval(c.hits, c.n),
      best_baseline: { name: c.best_baseline, hit_rate: c.best_baseline_hit_rate, hit_rate_interval: wilsonInterval(c.best_baseline_hits, c.n) },
      mcnemar_p: c.mcnemar_p,
    }
  );
}

export async function monitoringStatus<Queue>(store: Store, config: PluginConfig, queue: Queue | null = null): Promise<MonitoringStatus<Queue>> {
  const registry = new ModelRegistry(store);
  const symbols: SymbolStatus[] = [];
  for (const { symbol, last } of await new BarStore(store).coverage()) {
    const current = await registry.current(symbol);
    const run = current ? await store.repos.trainingRun.findOne({ where: { version_id: current.version_id }, order: { id: 'DESC' } }) : null;
    const records = await store.repos.accuracyRecord.find({ where: { symbol, prediction_set: config.prediction_set } });
    const n = records.length;
    const squared = records.reduce((sum, r) => sum + r.error_magnitude ** 2, 0);
    symbols.push({
      symbol,
      last_bar: last,
      current_version: current?.version_id ?? null,
      last_training_time: current?.training_time.toISOString() ?? null,
      data_start: current?.data_start ?? null,
      data_end: current?.data_end ?? null,
      validation: run ? { deployed: run.validation_deployed, reason: run.validation_reason, holdout: run.holdout_metrics_json } : null,
      predictions_last_7_days: await store.repos.predictionLog.countBy({ symbol, prediction_set: config.prediction_set, predict_date: MoreThanOrEqual(addCalendarDays(last, -7)) }),
      accuracy_records: n,
      mae: n ? records.reduce((sum, r) => sum + r.error_magnitude, 0) / n : null,
      rmse: n ? Math.sqrt(squared / n) : null,
      hit_rate: hitRateBesideBaseline(records),
      decay: await checkDecay(store, symbol, decaySettings(config)),
      training_failures: await new TrainingLog(store).countFailuresSince(symbol, current?.training_time),
      last_decay_check: (await store.repos.performanceCheck.findOne({ where: { symbol }, order: { id: 'DESC' } })) ?? null,
    });
  }
  return { generated_at: new Date().toISOString(), backend: currentBackend() ?? null, queue, symbols };
}
