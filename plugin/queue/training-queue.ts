/**
 * The training queue: the one path every training takes — triggered at a session close, manual (`train`, POST
 * /train, the panel), the weekly run's, a backtest's. Trainings leave the signal path and run in the background,
 * one at a time per symbol, a bounded number at once per process. Jobs and locks live in the database, so every
 * process sharing it sees the same queue, whichever process or machine runs the jobs.
 */
import type { TrainingCompletedEvent, TrainingStartedEvent } from '../events.js';
import type { TrainingJobRow } from '../store/entities.js';
import type { TrainOutcome, TrainingMode, TrainingProgress } from '../training/trainer.js';

export interface TrainingJobRequest {
  symbol: string;
  mode: TrainingMode;
  /** What asked for it: manual, weekly, monthly, quarterly, performance_decay. */
  trigger: string;
  /** The session that asked for it (bar calendar); none for manual jobs. */
  session?: string;
  /** Narrow the symbol's stored bars, as `TrainRequest.start/end` do. */
  start?: string;
  end?: string;
}

/** What a finished training reports: the `lstm:training:completed` payload less the request, plus what `lstm:model:deployed` needs. */
export interface TrainingSummary extends Omit<TrainingCompletedEvent, keyof TrainingStartedEvent> {
  /** The symbol's current version before this training; null for its first model. */
  previous_version_id: string | null;
}

/** The summary of a trainer's outcome, given the symbol's current version before the training. */
export function summarizeTraining(outcome: TrainOutcome, previousVersionId: string | null): TrainingSummary {
  return {
    version_id: outcome.versionId,
    deployed: outcome.deployed,
    reason: outcome.reason,
    holdout: outcome.holdout ?? null,
    run_id: outcome.run.id,
    duration_seconds: outcome.run.duration_seconds,
    previous_version_id: previousVersionId,
  };
}

export type TrainingQueueEvent =
  | { type: 'started'; job: TrainingJobRow }
  | { type: 'progress'; job: TrainingJobRow; progress: TrainingProgress }
  | { type: 'completed'; job: TrainingJobRow; summary: TrainingSummary }
  | { type: 'failed'; job: TrainingJobRow; error: string };

export interface QueueState {
  /** Trainings this queue instance runs at once. */
  concurrency: number;
  /** Every process's running jobs, oldest start first. */
  running: TrainingJobRow[];
  /** Every process's waiting jobs, in order of arrival. */
  queued: TrainingJobRow[];
  /** The last finished jobs (succeeded or failed), newest first. */
  recent: TrainingJobRow[];
}

export interface TrainingQueue {
  /** Stores the job and returns it at once, status 'queued'; never waits for the training. */
  enqueue(request: TrainingJobRequest): Promise<TrainingJobRow>;
  /** The queue as the database holds it, so any process sees the same. */
  state(): Promise<QueueState>;
  /** A failed job queued again (its attempts counted anew); refused while an equal job is active. */
  retry(id: number): Promise<TrainingJobRow>;
  /** A queued or running job failed as cancelled; the worker running it stops it at its next lease renewal. */
  cancel(id: number): Promise<TrainingJobRow>;
  /** Resolves with the job's final row (succeeded or failed), whichever process ran it. */
  finished(id: number): Promise<TrainingJobRow>;
  /** Resolves when every job this instance queued has finished and nothing runs here. */
  onIdle(): Promise<void>;
  /**
   * Stops taking work and releases every timer, listener and child process. Running jobs finish first, or with
   * `release` are stopped and queued again for another worker; queued jobs stay queued.
   */
  close(options?: { release?: boolean }): Promise<void>;
}

/** The error of a running job asked to stop (`cancel`), until its worker ends it. */
export const CANCEL_REQUESTED = 'cancel requested';
/** The error of a running job whose training is committing its outcome: too late to cancel. */
export const COMMITTING = 'committing';

/** How many finished jobs `state()` lists. */
export const RECENT_JOBS = 20;
