/**
 * What both queue engines share: the jobs are rows of `lstm_training_job` (queued → running → succeeded or failed),
 * the record every process reads — `state()`, `finished()`, `GET /jobs`, the fence a training commits through. One
 * active job per symbol, mode and session: enqueuing it again returns it. A claimed job runs here with its lease and
 * its symbol's lock renewed, a per-job timeout, cancellation at each renewal, and its end recorded only while this
 * worker still holds it. The engines differ in how a queued job reaches a worker and how a dead worker is noticed.
 */
import { In, IsNull } from 'typeorm';
import type { PluginConfig, QueueSettings } from '../config.js';
import type { Logger } from '../host.js';
import { TrainingLog } from '../registry/training-log.js';
import { parseDatabaseUrl } from '../store/database-url.js';
import type { TrainingJobRow } from '../store/entities.js';
import { isDuplicateKey } from '../store/errors.js';
import type { Store } from '../store/store.js';
import type { TrainingMode, TrainingProgress } from '../training/trainer.js';
import { FoldTasks } from './fold-tasks.js';
import { childProcessFoldRunner, childProcessRunner, inlineRunner, WorkerExitError, type FoldRunner, type JobRunner, type RunnerKind } from './job-runners.js';
import { TrainingLock } from './training-lock.js';
import { CANCEL_REQUESTED, COMMITTING, RECENT_JOBS, type QueueState, type TrainingJobRequest, type TrainingQueue, type TrainingQueueEvent } from './training-queue.js';
import { isDeadLocalWorker, workerId } from './worker-identity.js';

export interface QueueOptions {
  /** The plugin's open store: job rows and locks are written through it. */
  store: Store;
  /** The URL `store` was opened with; each child process opens its own connection with it. */
  databaseUrl: string | undefined;
  /** The resolved configuration: feature names, training settings, `queue.*`, `triggers.concurrency`. */
  config: PluginConfig;
  /** Trainings this process runs at once (default `triggers.concurrency`). */
  concurrency?: number;
  /** Default `child-process`; `inline` (forced for `sqlite::memory:`) trains in this process. */
  runner?: RunnerKind;
  /** Overrides of `queue.*` (tests use short leases). */
  settings?: Partial<QueueSettings>;
  logger?: Logger;
  /** Every job this process runs: start, progress and end, for the plugin to forward as `lstm:training:*` events. */
  onEvent?: (event: TrainingQueueEvent) => void;
}

/** A queue that can also run jobs: the plugin, `serve` and `lstm-signals worker` start it working. */
export interface WorkingQueue extends TrainingQueue {
  readonly engine: 'database' | 'bullmq';
  readonly worker: string;
  readonly concurrency: number;
  /** Starts running queued jobs (any process's) in this process. */
  startWorking(): void;
}

export const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));
export const FINISHED = ['succeeded', 'failed'];

/** A change to a job's row (its progress is written on its own). */
export type JobChange = Partial<Omit<TrainingJobRow, 'progress_json'>>;

/** The key of the one active job per symbol, mode and session (manual jobs: per symbol and mode). */
export function activeKey(request: Pick<TrainingJobRequest, 'symbol' | 'mode' | 'session'>): string {
  return `${request.symbol}|${request.mode}|${request.session ?? 'manual'}`;
}

/** The request a job row stands for. */
export function requestOf(job: TrainingJobRow): TrainingJobRequest {
  return {
    symbol: job.symbol,
    mode: job.training_type as TrainingMode,
    trigger: job.trigger_type,
    ...(job.session && { session: job.session }),
    ...(job.data_start && { start: job.data_start }),
    ...(job.data_end && { end: job.data_end }),
  };
}

/** How a run of a claimed job ended, for the engine to act on. */
export type JobEnd = 'succeeded' | 'failed' | 'cancelled' | 'released' | 'retry' | 'lost';

export abstract class JobTableQueue implements WorkingQueue {
  abstract readonly engine: WorkingQueue['engine'];
  abstract startWorking(): void;
  /** A job row is queued (new, retried or given back): the engine makes it reach a worker. */
  protected abstract scheduled(job: TrainingJobRow): Promise<void> | void;
  /** Stops taking jobs; with `release`, running ones are stopped and given back. */
  protected abstract shutDown(release: boolean): Promise<void>;
  /** A training process that died before reporting (crash, out of memory) is queued again while starts are left. */
  protected readonly retriesCrashes: boolean = false;

  readonly concurrency: number;
  readonly runnerKind: RunnerKind;
  readonly worker = workerId();
  protected readonly store: Store;
  protected readonly settings: QueueSettings;
  protected readonly lock: TrainingLock;
  protected readonly logger?: Logger;
  private readonly run: JobRunner;
  private readonly onEvent?: (event: TrainingQueueEvent) => void;
  private readonly folds: FoldTasks;
  /** Fold tasks run for other trainings in child processes; none with the inline runner (a fit would block this process). */
  private readonly runFold: FoldRunner | undefined;
  private readonly helping = new Map<number, { done: Promise<void>; abort: AbortController }>();
  private helpTimer: NodeJS.Timeout | undefined;
  private helpPass: Promise<void> | undefined;
  private helpers = 0;

  protected readonly running = new Map<number, { done: Promise<JobEnd>; abort: AbortController }>();
  /** Jobs this instance queued or joined, until they finish (whoever runs them). */
  private readonly mine = new Set<number>();
  private readonly finishWaiters = new Map<number, Array<(job: TrainingJobRow) => void>>();
  protected closing: Promise<void> | undefined;

  constructor(options: QueueOptions) {
    this.store = options.store;
    this.settings = { ...options.config.queue, ...options.settings };
    this.lock = new TrainingLock(options.store);
    this.concurrency = options.concurrency ?? options.config.triggers.concurrency;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) throw new Error(`training queue concurrency must be a positive integer, not ${this.concurrency}`);
    this.logger = options.logger;
    this.onEvent = options.onEvent;
    const target = parseDatabaseUrl(options.databaseUrl);
    const inMemory = target.dialect === 'sqlite' && target.file === ':memory:';
    this.runnerKind = options.runner ?? (inMemory ? 'inline' : 'child-process');
    if (inMemory && this.runnerKind === 'child-process') throw new Error('a sqlite::memory: database cannot be opened by a child process: use the inline runner');
    this.run =
      this.runnerKind === 'inline'
        ? inlineRunner(options.store, options.config, options.logger)
        : childProcessRunner(options.databaseUrl, options.config, options.logger);
    this.folds = new FoldTasks(options.store, this.worker, { leaseMs: this.settings.lease_ms, pollMs: this.settings.poll_ms });
    const config = { ...options.config, queue: this.settings };
    this.runFold = this.runnerKind === 'child-process' && this.settings.fan_out ? childProcessFoldRunner(options.databaseUrl, config, options.logger) : undefined;
  }

  /** Trainings and fold tasks running here. */
  protected busy(): number {
    return this.running.size + this.helping.size;
  }

  /** While this process has a free slot, it fits fold tasks of fanned-out trainings (any process's). */
  protected startHelping(): void {
    if (!this.runFold || this.helpTimer) return;
    this.helpTimer = setInterval(() => {
      this.helpPass ??= this.help()
        .catch((error: unknown) => this.logger?.warn('training queue: taking a fold task failed; trying again', { error: messageOf(error) }))
        .finally(() => (this.helpPass = undefined));
    }, this.settings.poll_ms);
  }

  private async help(): Promise<void> {
    while (!this.closing && this.busy() < this.concurrency && (await this.folds.available()) > this.helping.size) {
      const abort = new AbortController();
      const id = ++this.helpers;
      const done = this.runFold!(abort.signal)
        .then((fitted) => this.logger?.debug?.(`training queue: a fold process fitted ${fitted} task(s)`))
        // Its claimed task, if any, is seen as abandoned at once (a dead process on this host) and fitted again.
        .catch((error: unknown) => this.logger?.warn('training queue: a fold process failed', { error: messageOf(error) }))
        .finally(() => this.helping.delete(id));
      this.helping.set(id, { done, abort });
    }
  }

  async enqueue(request: TrainingJobRequest): Promise<TrainingJobRow> {
    if (this.closing) throw new Error('the training queue is closed');
    const key = activeKey(request);
    const jobs = this.store.repos.trainingJob;
    let job: TrainingJobRow | null = null;
    let inserted = false;
    for (let attempt = 0; !job && attempt < 3; attempt++) {
      try {
        const { identifiers } = await jobs.insert({
          symbol: request.symbol,
          training_type: request.mode,
          trigger_type: request.trigger,
          session: request.session ?? null,
          data_start: request.start ?? null,
          data_end: request.end ?? null,
          status: 'queued',
          attempts: 0,
          active_key: key,
        });
        job = await jobs.findOneByOrFail({ id: identifiers[0]!.id as number });
        inserted = true;
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        // The same training is queued or running already: this request joins it (unless it finished meanwhile).
        job = await jobs.findOneBy({ active_key: key });
      }
    }
    if (!job) throw new Error(`${request.symbol}: could not queue the ${request.mode} training (${key}): it kept finishing as it was joined`);
    this.mine.add(job.id);
    if (inserted) await this.scheduled(job);
    return job;
  }

  async state(): Promise<QueueState> {
    const jobs = this.store.repos.trainingJob;
    const [running, queued, recent] = await Promise.all([
      jobs.find({ where: { status: 'running' }, order: { started_at: 'ASC', id: 'ASC' } }),
      jobs.find({ where: { status: 'queued' }, order: { id: 'ASC' } }),
      jobs.find({ where: { status: In(FINISHED) }, order: { finished_at: 'DESC', id: 'DESC' }, take: RECENT_JOBS }),
    ]);
    return { concurrency: this.concurrency, running, queued, recent };
  }

  async retry(id: number): Promise<TrainingJobRow> {
    const jobs = this.store.repos.trainingJob;
    const job = await jobs.findOneBy({ id });
    if (!job) throw new Error(`no training job ${id}`);
    if (job.status !== 'failed') throw new Error(`training job ${id} is ${job.status}: only a failed job can be retried`);
    const key = activeKey(requestOf(job));
    try {
      const retried = await jobs.update({ id, status: 'failed' }, { status: 'queued', attempts: 0, active_key: key, started_at: null, finished_at: null, run_id: null, version_id: null });
      if (retried.affected !== 1) throw new Error(`training job ${id} changed meanwhile: look again`);
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      const active = await jobs.findOneBy({ active_key: key });
      throw new Error(`training job ${id} is not retried: the same training is already ${active?.status ?? 'active'} as job ${active?.id ?? '?'}`);
    }
    this.mine.add(id);
    const row = await jobs.findOneByOrFail({ id });
    await this.scheduled(row);
    return row;
  }

  async cancel(id: number): Promise<TrainingJobRow> {
    const jobs = this.store.repos.trainingJob;
    const job = await jobs.findOneBy({ id });
    if (!job) throw new Error(`no training job ${id}`);
    if (FINISHED.includes(job.status)) throw new Error(`training job ${id} has ${job.status} already: nothing to cancel`);
    // A running job is asked to stop, and its worker ends it as cancelled — unless its training is committing already.
    const cancelled =
      job.status === 'running'
        ? await jobs.update({ id, status: 'running', error: IsNull() }, { error: CANCEL_REQUESTED })
        : await jobs.update({ id, status: 'queued' }, { status: 'failed', error: 'cancelled while queued', finished_at: new Date(), active_key: null });
    if (cancelled.affected !== 1) {
      const now = await jobs.findOneBy({ id });
      if (now?.error === COMMITTING) throw new Error(`training job ${id} is committing its outcome: too late to cancel`);
      if (now?.error === CANCEL_REQUESTED) return now;
      throw new Error(`training job ${id} changed meanwhile: look again`);
    }
    const row = await jobs.findOneByOrFail({ id });
    if (row.status === 'failed') this.notifyFinished(row);
    return row;
  }

  /** Resolves with the job's final row once it has succeeded or failed, whichever process ran it. */
  async finished(id: number): Promise<TrainingJobRow> {
    for (;;) {
      const job = await this.store.repos.trainingJob.findOneByOrFail({ id });
      if (FINISHED.includes(job.status)) return job;
      // Woken when this process finishes it, else on the next poll.
      await new Promise<void>((resolve) => {
        const waiters = this.finishWaiters.get(id) ?? [];
        const wake = () => {
          clearTimeout(timer);
          resolve();
        };
        // A poll that finds the job still running takes its waiter back: a job finished elsewhere leaves none behind.
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(wake), 1);
          if (waiters.length === 0) this.finishWaiters.delete(id);
          resolve();
        }, this.settings.poll_ms);
        waiters.push(wake);
        this.finishWaiters.set(id, waiters);
      });
    }
  }

  async onIdle(): Promise<void> {
    // Closed, this instance waits only for what runs here: the jobs it queued may run elsewhere later.
    if (this.closing) return this.closing;
    while (this.mine.size > 0 || this.running.size > 0) {
      for (const id of [...this.mine]) {
        await this.finished(id);
        this.mine.delete(id);
      }
      await Promise.all([...this.running.values()].map((r) => r.done));
    }
  }

  /**
   * Stops taking jobs. Running ones are finished, or with `release` stopped and queued again for another worker (a
   * worker told to stop); queued jobs stay queued for whichever process runs jobs next.
   */
  close(options: { release?: boolean } = {}): Promise<void> {
    this.closing ??= this.shutDown(options.release ?? false);
    return this.closing;
  }

  /** Stops every job running here as given back (fold tasks always), and waits for them. */
  protected async releaseRunning(release: boolean): Promise<void> {
    clearInterval(this.helpTimer);
    await this.helpPass;
    for (const { abort } of this.helping.values()) abort.abort(new ReleasedJob());
    if (release) for (const { abort } of this.running.values()) abort.abort(new ReleasedJob());
    await Promise.all([...this.running.values(), ...this.helping.values()].map((r) => r.done));
  }

  /**
   * Takes the symbol's lock and the queued job: a conditional update only one claimant wins. Null when the lock is
   * held, or another worker claimed the job first.
   */
  protected async claim(job: TrainingJobRow): Promise<{ job: TrainingJobRow; owner: string } | null> {
    const owner = `${this.worker} job ${job.id}`;
    if (!(await this.lock.acquire(job.symbol, owner, this.settings.lease_ms))) return null;
    const now = new Date();
    const claimed = await this.store.repos.trainingJob.update(
      { id: job.id, status: 'queued' },
      { status: 'running', worker: this.worker, lease_expires_at: new Date(now.getTime() + this.settings.lease_ms), attempts: job.attempts + 1, started_at: now, error: null },
    );
    if (claimed.affected !== 1 || this.closing) {
      if (claimed.affected === 1) await this.requeue(job.id, 'the queue closed as the job was claimed');
      await this.lock.release(job.symbol, owner);
      return null;
    }
    return { job: await this.store.repos.trainingJob.findOneByOrFail({ id: job.id }), owner };
  }

  /**
   * Why a running job's worker is gone — its process on this host has ended, or its lease ran out — or null while
   * it may still be alive.
   */
  protected goneWorker(job: TrainingJobRow, now = new Date()): string | null {
    if (!job.worker || this.running.has(job.id)) return null;
    if (isDeadLocalWorker(job.worker)) return 'its process has ended';
    return job.lease_expires_at && job.lease_expires_at < now ? 'its lease ran out' : null;
  }

  /**
   * A running job whose worker is gone (`gone` says how it was seen) queued again, or failed after
   * `queue.max_attempts` starts, with a training-failure row saying so. Only one process recovers it: the update
   * matches while the dead worker is still named. Returns what became of it, or null when another process did it.
   */
  protected async abandon(job: TrainingJobRow, gone: string): Promise<'queued' | 'failed' | null> {
    const what = `worker ${job.worker} died during the job (attempt ${job.attempts} of ${this.settings.max_attempts}: ${gone})`;
    const last = job.attempts >= this.settings.max_attempts;
    const change: JobChange = last
      ? { status: 'failed', finished_at: new Date(), error: what, worker: null, lease_expires_at: null, active_key: null }
      : { status: 'queued', error: `${what}; queued again`, worker: null, lease_expires_at: null };
    const taken = await this.store.repos.trainingJob.update({ id: job.id, status: 'running', worker: job.worker! }, change);
    if (taken.affected !== 1) return null;
    this.logger?.warn(`training queue: job ${job.id} (${job.symbol}): ${what}; ${last ? 'failed' : 'queued again'}`);
    await new TrainingLog(this.store).recordFailure({ symbol: job.symbol, error: new Error(what), trainingType: job.training_type, triggerType: job.trigger_type });
    await this.store.repos.trainingLock.delete({ symbol: job.symbol, owner: `${job.worker} job ${job.id}` });
    if (last) {
      await this.folds.clear(job.id);
      this.notifyFinished(await this.store.repos.trainingJob.findOneByOrFail({ id: job.id }));
    }
    return last ? 'failed' : 'queued';
  }

  /** Runs a claimed job here; `onProgress` also hears its progress (the BullMQ engine reports it to Redis). */
  protected start(job: TrainingJobRow, owner: string, onProgress?: (progress: TrainingProgress) => void): Promise<JobEnd> {
    const abort = new AbortController();
    const done = this.execute(job, owner, abort, onProgress)
      .catch((error: unknown): JobEnd => {
        this.logger?.error(`training queue: job ${job.id} (${job.symbol}) could not be recorded`, { error: messageOf(error) });
        return 'lost';
      })
      .finally(() => {
        this.running.delete(job.id);
        this.ended();
      });
    this.running.set(job.id, { done, abort });
    return done;
  }

  /** A job running here has ended: the engine may take another. */
  protected ended(): void {}

  /** Runs one claimed job: renews its lease and lock, records the outcome, and releases the lock. */
  private async execute(job: TrainingJobRow, owner: string, abort: AbortController, onProgress?: (progress: TrainingProgress) => void): Promise<JobEnd> {
    const { id, symbol } = job;
    const jobs = this.store.repos.trainingJob;
    let renewal = Promise.resolve();
    const renewTimer = setInterval(() => {
      renewal = renewal
        .then(async () => {
          const expires = new Date(Date.now() + this.settings.lease_ms);
          const held = (await jobs.update({ id, status: 'running', worker: this.worker }, { lease_expires_at: expires })).affected === 1;
          if (held && (await jobs.findOneBy({ id }))?.error === CANCEL_REQUESTED) {
            abort.abort(new Error(`job ${id} (${symbol}) was cancelled`));
          } else if (!held || !(await this.lock.renew(symbol, owner, this.settings.lease_ms))) {
            abort.abort(new Error(`job ${id} lost its claim on ${symbol} (its lease ran out and another worker took the job)`));
          }
        })
        .catch((error: unknown) => this.logger?.warn(`training queue: ${symbol}: renewing the lease of job ${id} failed`, { error: messageOf(error) }));
    }, this.settings.lease_ms / 3);
    const timeout = setTimeout(() => abort.abort(new JobTimedOut(this.settings.job_timeout_ms)), this.settings.job_timeout_ms);
    const request = requestOf(job);
    let progressWrite = Promise.resolve();
    try {
      this.emit({ type: 'started', job });
      try {
        const summary = await this.run(request, {
          signal: abort.signal,
          fence: { jobId: id, worker: this.worker },
          onProgress: (progress) => {
            this.emit({ type: 'progress', job, progress });
            onProgress?.(progress);
            progressWrite = progressWrite.then(() => jobs.update({ id, worker: this.worker }, { progress_json: progress as never })).then(() => undefined, () => undefined);
          },
        });
        await progressWrite;
        const succeeded = await this.finish(id, { status: 'succeeded', run_id: summary.run_id, version_id: summary.version_id, error: null });
        if (!succeeded) return 'lost';
        this.emit({ type: 'completed', job: succeeded, summary });
        return 'succeeded';
      } catch (error) {
        await progressWrite;
        if (abort.signal.aborted && abort.signal.reason instanceof ReleasedJob) {
          await this.requeue(id, 'the worker was stopped; queued again');
          return 'released';
        }
        // Stopped at a lease renewal, or refused its commit (claimCommit): a cancellation, not a failure.
        if ((await jobs.findOneBy({ id }))?.error === CANCEL_REQUESTED) {
          const error = `cancelled while running on worker ${this.worker}`;
          const cancelled = await this.finish(id, { status: 'failed', error });
          if (cancelled) this.emit({ type: 'failed', job: cancelled, error });
          return cancelled ? 'cancelled' : 'lost';
        }
        const message = abort.signal.reason instanceof JobTimedOut ? abort.signal.reason.message : messageOf(error);
        // The trainer records its own failures; a worker process that died before reporting could not.
        if (error instanceof WorkerExitError) await new TrainingLog(this.store).recordFailure({ symbol, error: message === error.message ? error : new WorkerExitError(message), trainingType: request.mode, triggerType: request.trigger });
        if (error instanceof WorkerExitError && !(abort.signal.reason instanceof JobTimedOut) && this.retriesCrashes && job.attempts < this.settings.max_attempts) {
          await this.requeue(id, `${message} (attempt ${job.attempts} of ${this.settings.max_attempts}); queued again`);
          return 'retry';
        }
        const failed = await this.finish(id, { status: 'failed', error: message });
        if (failed) this.emit({ type: 'failed', job: failed, error: message });
        return failed ? 'failed' : 'lost';
      }
    } finally {
      clearInterval(renewTimer);
      clearTimeout(timeout);
      await renewal;
      await this.lock.release(symbol, owner);
    }
  }

  /** Records the job's end if this worker still holds it; null when another worker took it over meanwhile. */
  private async finish(id: number, change: JobChange): Promise<TrainingJobRow | null> {
    const jobs = this.store.repos.trainingJob;
    const done = await jobs.update({ id, status: 'running', worker: this.worker }, { ...change, finished_at: new Date(), worker: null, lease_expires_at: null, active_key: null });
    if (done.affected !== 1) return null;
    // A training process that died leaves its fold tasks behind: nobody needs them now.
    await this.folds.clear(id);
    const job = await jobs.findOneByOrFail({ id });
    this.notifyFinished(job);
    return job;
  }

  protected async requeue(id: number, why: string): Promise<void> {
    await this.store.repos.trainingJob.update({ id, status: 'running', worker: this.worker }, { status: 'queued', worker: null, lease_expires_at: null, started_at: null, error: why });
  }

  protected notifyFinished(job: TrainingJobRow): void {
    for (const wake of this.finishWaiters.get(job.id) ?? []) wake(job);
    this.finishWaiters.delete(job.id);
  }

  private emit(event: TrainingQueueEvent): void {
    try {
      this.onEvent?.(event);
    } catch (error) {
      this.logger?.error(`training queue: an event listener failed on ${event.type} of job ${event.job.id}`, { error: messageOf(error) });
    }
  }
}

/** The abort reason of a job given back because its worker is stopping. */
class ReleasedJob extends Error {
  override name = 'ReleasedJob';
  constructor() {
    super('the worker is stopping: the job is queued again');
  }
}

/** The abort reason of a job that ran past `queue.job_timeout_ms`. */
class JobTimedOut extends Error {
  override name = 'JobTimedOut';
  constructor(ms: number) {
    super(`timed out: still running after ${Math.round(ms / 1000)} s (queue.job_timeout_ms)`);
  }
}
