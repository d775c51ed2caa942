/** One queued training, run against a store: the symbol's stored bars, the plugin's training settings, the summary the events carry. */
import type { PluginConfig } from '../config.js';
import type { Logger } from '../host.js';
import { ModelRegistry } from '../registry/model-registry.js';
import { BarStore } from '../store/bar-store.js';
import type { Store } from '../store/store.js';
import { Trainer, type TrainOutcome, type TrainingProgress } from '../training/trainer.js';
import { summarizeTraining, type TrainingJobRequest, type TrainingSummary } from './training-queue.js';

export interface TrainJobHooks {
  onProgress?: (progress: TrainingProgress) => void;
  /** See TrainRequest.beforeCommit. */
  beforeCommit?: () => void;
  logger?: Logger;
}

/** Trains the job's symbol; a failure is recorded in `lstm_training_failure` by the trainer and rethrown. */
export async function trainJob(
  store: Store,
  config: PluginConfig,
  request: TrainingJobRequest,
  hooks: TrainJobHooks = {},
): Promise<{ outcome: TrainOutcome; summary: TrainingSummary }> {
  // Read before training: the symbol's lock keeps every other training from changing it meanwhile.
  const previous = (await new ModelRegistry(store).currentVersionId(request.symbol)) ?? null;
  const outcome = await new Trainer(store, hooks.logger).train({
    symbol: request.symbol,
    mode: request.mode,
    trigger: request.trigger,
    start: request.start,
    end: request.end,
    bars: await new BarStore(store).load(request.symbol),
    featureNames: config.feature_names,
    settings: config.training,
    predictionSet: config.prediction_set,
    levelCoverage: config.signals.level_coverage,
    onProgress: hooks.onProgress,
    beforeCommit: hooks.beforeCommit,
  });
  return { outcome, summary: summarizeTraining(outcome, previous) };
}
