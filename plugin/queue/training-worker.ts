/**
 * A training in its own process (forked by the queue's child-process runner): it opens its own connection
 * to the database, trains one job and reports progress, log lines and the outcome over IPC, then exits.
 * A process of its own keeps the fit off the host's event loop and lets trainings use every core.
 */
import type { PluginConfig } from '../config.js';
import type { Logger } from '../host.js';
import { Store } from '../store/store.js';
import type { TrainingProgress } from '../training/trainer.js';
import { FoldTasks } from './fold-tasks.js';
import { claimCommit, trainJob, type JobFence } from './train-job.js';
import { workerId } from './worker-identity.js';
import type { TrainingJobRequest, TrainingSummary } from './training-queue.js';

/** The one message the parent sends: a training to run, or (`folds`) fold tasks to fit. */
export interface WorkerRequest {
  /** The parent store's URL (undefined = the embedded default, resolved against the same working directory). */
  databaseUrl: string | undefined;
  /** The resolved plugin configuration: feature names and training settings. */
  config: PluginConfig;
  request?: TrainingJobRequest;
  fence?: JobFence;
  /** Fit fold tasks (any training's), one after another, until none is left to claim. */
  folds?: true;
}

export type WorkerMessage =
  | { type: 'progress'; progress: TrainingProgress }
  | { type: 'log'; level: keyof Logger; message: string; fields?: Record<string, unknown> }
  | { type: 'completed'; summary: TrainingSummary }
  | { type: 'folds'; fitted: number }
  | { type: 'failed'; error: string };

const post = process.send?.bind(process);
if (!post) throw new Error('training-worker.ts runs only as a child process of the training queue');

function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve, reject) => post!(message, undefined, {}, (error) => (error ? reject(error) : resolve())));
}

const logger: Logger = {
  debug: (message, fields) => void send({ type: 'log', level: 'debug', message, fields }),
  info: (message, fields) => void send({ type: 'log', level: 'info', message, fields }),
  warn: (message, fields) => void send({ type: 'log', level: 'warn', message, fields }),
  error: (message, fields) => void send({ type: 'log', level: 'error', message, fields }),
};

async function work({ databaseUrl, config, request, fence, folds }: WorkerRequest): Promise<void> {
  let result: WorkerMessage;
  try {
    // The parent has migrated the database already.
    const store = await Store.open({ url: databaseUrl, migrate: false, timeouts: config.db_timeouts });
    try {
      if (folds) {
        // Claimed under this process's own identity: if it dies, the task is seen as abandoned at once on this host.
        const tasks = new FoldTasks(store, workerId(), { leaseMs: config.queue.lease_ms, pollMs: config.queue.poll_ms });
        let fitted = 0;
        for (let task = await tasks.claim(); task; task = await tasks.claim()) if (await tasks.run(task, undefined, () => stopIfOrphaned())) fitted++;
        result = { type: 'folds', fitted };
      } else {
        result = { type: 'completed', summary: await train(store, config, request!, fence!) };
      }
    } finally {
      await store.close();
    }
  } catch (error) {
    result = { type: 'failed', error: error instanceof Error ? error.message : String(error) };
  }
  await send(result);
  process.exit(0);
}

async function train(store: Store, config: PluginConfig, request: TrainingJobRequest, fence: JobFence): Promise<TrainingSummary> {
  const { summary } = await trainJob(store, config, request, {
    onProgress: (progress) => {
      stopIfOrphaned();
      void send({ type: 'progress', progress });
    },
    beforeCommit: async () => {
      stopIfOrphaned();
      await claimCommit(store, fence);
    },
    fanOut: { jobId: fence.jobId },
    logger,
  });
  return summary;
}

const parent = process.ppid;

/**
 * A parent that is gone no longer holds the job: another worker takes it over, so this training stops at its next
 * progress report and never commits. Asked of the operating system, not the IPC channel: a fit blocks the event
 * loop, and on SQLite (synchronous queries) nothing between the holdout and the commit lets 'disconnect' be seen.
 */
function stopIfOrphaned(): void {
  if (process.ppid !== parent) throw new Error('the queue process that ran this training is gone: its job is taken over elsewhere; stopped');
}

// A parent that is gone can no longer record the outcome or renew the lock: stop, and let the lock expire.
process.once('disconnect', () => process.exit(1));
process.once('message', (message) => void work(message as WorkerRequest));
