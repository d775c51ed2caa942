/**
 * Where a queued training runs. `child-process` (the default) forks `training-worker.ts` per job, so a fit
 * never blocks this process's event loop and concurrent trainings use separate cores. `inline` trains in
 * this process: the only choice for `sqlite::memory:`, which no other process can open, and it blocks the
 * event loop while each fit runs.
 */
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { PluginConfig } from '../config.js';
import type { Logger } from '../host.js';
import type { Store } from '../store/store.js';
import type { TrainingProgress } from '../training/trainer.js';
import { claimCommit, trainJob, type JobFence } from './train-job.js';
import type { TrainingJobRequest, TrainingSummary } from './training-queue.js';
import type { WorkerMessage, WorkerRequest } from './training-worker.js';

export type RunnerKind = 'child-process' | 'inline';

export interface RunHooks {
  onProgress: (progress: TrainingProgress) => void;
  /** The job and its worker: the training commits only while the job is still held so (claimCommit). */
  fence: JobFence;
  /** Aborting stops a child-process training (the worker is killed); an inline one cannot be stopped. */
  signal: AbortSignal;
}

export type JobRunner = (request: TrainingJobRequest, hooks: RunHooks) => Promise<TrainingSummary>;

/** The worker died (crash, kill, lost lock) before reporting: unlike a training error, nothing recorded the failure. */
export class WorkerExitError extends Error {
  override name = 'WorkerExitError';
}

/** Compiled (dist/), the worker is plain JavaScript; run from the TypeScript sources (tests, benchmarks), it needs tsx's loader. */
const FROM_SOURCES = import.meta.url.endsWith('.ts');
const WORKER = fileURLToPath(new URL(FROM_SOURCES ? './training-worker.ts' : './training-worker.js', import.meta.url));
/** Resolved from this package, so the worker runs whatever the host's working directory. */
const WORKER_EXEC_ARGV = FROM_SOURCES ? ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href] : [];

export function inlineRunner(store: Store, config: PluginConfig, logger?: Logger): JobRunner {
  return async (request, { onProgress, fence }) => (await trainJob(store, config, request, { onProgress, logger, beforeCommit: () => claimCommit(store, fence), fanOut: { jobId: fence.jobId } })).summary;
}

export function childProcessRunner(databaseUrl: string | undefined, config: PluginConfig, logger?: Logger): JobRunner {
  return async (request, { onProgress, signal, fence }) => {
    const result = await runChild({ databaseUrl, config, request, fence }, signal, onProgress, logger);
    if (result.type === 'completed') return result.summary;
    throw new Error(result.type === 'failed' ? result.error : `the training worker answered ${result.type}`);
  };
}

/** Fits fold tasks in a child process until none is left to claim; how many it fitted. */
export type FoldRunner = (signal: AbortSignal) => Promise<number>;

export function childProcessFoldRunner(databaseUrl: string | undefined, config: PluginConfig, logger?: Logger): FoldRunner {
  return async (signal) => {
    const result = await runChild({ databaseUrl, config, folds: true }, signal, () => undefined, logger);
    if (result.type === 'failed') throw new Error(result.error);
    return result.type === 'folds' ? result.fitted : 0;
  };
}

type Outcome = Extract<WorkerMessage, { type: 'completed' | 'failed' | 'folds' }>;

/** Forks a training worker with `message` and resolves with its last word; WorkerExitError when it died before saying it. */
function runChild(message: WorkerRequest, signal: AbortSignal, onProgress: (progress: TrainingProgress) => void, logger?: Logger): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = fork(WORKER, {
      execArgv: WORKER_EXEC_ARGV,
      // Structured clone keeps NaN metrics; the worker's stdout (TensorFlow.js notices) goes to stderr, never into a host's output.
      serialization: 'advanced',
      stdio: ['ignore', 2, 2, 'ipc'],
    });
    let result: Outcome | undefined;
    const stop = () => child.kill();
    signal.addEventListener('abort', stop, { once: true });
    child.on('message', (message: WorkerMessage) => {
      if (message.type === 'progress') onProgress(message.progress);
      else if (message.type === 'log') logger?.[message.level](message.message, message.fields);
      else result = message;
    });
    child.once('error', (error) => {
      child.kill();
      reject(new WorkerExitError(`training worker: ${error.message}`));
    });
    const settle = (code: number | null, exitSignal: NodeJS.Signals | null) => {
      signal.removeEventListener('abort', stop);
      if (result) resolve(result);
      else if (signal.aborted) reject(new WorkerExitError(signal.reason instanceof Error ? signal.reason.message : String(signal.reason)));
      else reject(new WorkerExitError(`the training worker exited (${exitSignal ?? `code ${code}`}) before reporting an outcome`));
    };
    // The process handle finishes closing on a later turn of the event loop: settle after it, so whoever awaited the job finds no handle left.
    child.once('close', (code, exitSignal) => setTimeout(settle, 0, code, exitSignal));
    child.send(message);
  });
}
