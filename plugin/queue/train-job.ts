/** One queued training, run against a store: the symbol's stored bars, the plugin's training settings, the summary the events carry. */
import { IsNull } from 'typeorm';
import type { PluginConfig } from '../config.js';
import type { Logger } from '../host.js';
import { ModelRegistry } from '../registry/model-registry.js';
import { BarStore } from '../store/bar-store.js';
import type { Store } from '../store/store.js';
import { Trainer, type TrainOutcome, type TrainingProgress } from '../training/trainer.js';
import { FoldTasks } from './fold-tasks.js';
import { workerId } from './worker-identity.js';
import { COMMITTING, summarizeTraining, type TrainingJobRequest, type TrainingSummary } from './training-queue.js';

export interface TrainJobHooks {
  onProgress?: (progress: TrainingProgress) => void;
  /** See TrainRequest.beforeCommit. */
  beforeCommit?: () => void | Promise<void>;
  /** A queued full training's job: with `queue.fan_out`, its cross-validation units become fold tasks any worker may run. */
  fanOut?: { jobId: number };
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
  const bars = await new BarStore(store).load(request.symbol);
  const fanOut = request.mode === 'full' && config.queue.fan_out && hooks.fanOut && bars.length > 0 ? { tasks: new FoldTasks(store, workerId(), { leaseMs: config.queue.lease_ms, pollMs: config.queue.poll_ms }), jobId: hooks.fanOut.jobId } : undefined;
  const lastBar = bars.at(-1)?.date ?? '';
  const end = request.end && request.end < lastBar ? request.end : lastBar;
  try {
    const outcome = await new Trainer(store, hooks.logger).train({
      symbol: request.symbol,
      mode: request.mode,
      trigger: request.trigger,
      start: request.start,
      end: request.end,
      bars,
      featureNames: config.feature_names,
      settings: config.training,
      predictionSet: config.prediction_set,
      levelCoverage: config.signals.level_coverage,
      onProgress: hooks.onProgress,
      beforeCommit: hooks.beforeCommit,
      ...(fanOut && { foldUnit: fanOut.tasks.unit({ jobId: fanOut.jobId, symbol: request.symbol, featureNames: config.feature_names, start: request.start, end }) }),
    });
    return { outcome, summary: summarizeTraining(outcome, previous) };
  } finally {
    await fanOut?.tasks.clear(fanOut.jobId);
  }
}

/** Which job a training runs for and which worker holds it: a training may commit only while that is still so. */
export interface JobFence {
  jobId: number;
  worker: string;
}

/**
 * Claims the job's commit: marks it `committing` if it is still running under `fence.worker` and nobody asked it to
 * stop; throws otherwise. From then on the job cannot be cancelled, so a committed training is never reported as
 * cancelled, and a cancelled one never commits.
 */
export async function claimCommit(store: Store, fence: JobFence): Promise<void> {
  const jobs = store.repos.trainingJob;
  const claimed = await jobs.update({ id: fence.jobId, status: 'running', worker: fence.worker, error: IsNull() }, { error: COMMITTING });
  if (claimed.affected === 1) return;
  const job = await jobs.findOneBy({ id: fence.jobId });
  throw new Error(`job ${fence.jobId} is no longer this worker's to commit (${job ? `${job.status}${job.error ? `: ${job.error}` : ''}` : 'deleted'}): not committing`);
}
