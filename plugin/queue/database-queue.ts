/**
 * The training queue in the database: jobs are rows of `lstm_training_job` (queued → running → succeeded or failed)
 * that any process sharing the database may run. A process that runs jobs claims a queued one with a conditional
 * update only one claimant can win, takes its symbol's lock (so no two trainings of a symbol overlap anywhere), and
 * holds the job by a lease it renews. A worker that dies stops renewing: once its lease has run out — at once when
 * it ran on this host and its process is gone — another process queues the job again, or fails it, with the reason,
 * after `queue.max_attempts` starts. One active job per symbol, mode and session: enqueuing it again returns it.
 */
import { In, IsNull } from 'typeorm';
import type { PluginConfig, QueueSettings } from '../config.js';
import type { Logger } from '../host.js';
import { TrainingLog } from '../registry/training-log.js';
import { parseDatabaseUrl } from '../store/database-url.js';
import type { TrainingJobRow } from '../store/entities.js';
import { isDuplicateKey } from '../store/errors.js';
import type { Store } from '../store/store.js';
import type { TrainingMode } from '../training/trainer.js';
import { childProcessRunner, inlineRunner, WorkerExitError, type JobRunner, type RunnerKind } from './job-runners.js';
import { TrainingLock } from './training-lock.js';
import { CANCEL_REQUESTED, COMMITTING, RECENT_JOBS, type QueueState, type TrainingJobRequest, type TrainingQueue, type TrainingQueueEvent } from './training-queue.js';
import { isDeadLocalWorker, workerId } from './worker-identity.js';

export interface DatabaseQueueOptions {
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

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));
const FINISHED = ['succeeded', 'failed'];

/** A change to a job's row (its progress is written on its own). */
type JobChange = Partial<Omit<TrainingJobRow, 'progress_json'>>;

/** The key of the one active job per symbol, mode and session (manual jobs: per symbol and mode). */
export function activeKey(request: Pick<TrainingJobRequest, 'symbol' | 'mode' | 'session'>): string {
  return `${request.symbol}|${request.mode}|${request.session ?? 'manual'}`;
}

export class DatabaseTrainingQueue implements TrainingQueue {
  readonly concurrency: number;
  readonly runnerKind: RunnerKind;
  readonly worker = workerId();
  private readonly store: Store;
  private readonly settings: QueueSettings;
  private readonly lock: TrainingLock;
  private readonly run: JobRunner;
  private readonly logger?: Logger;
  private readonly onEvent?: (event: TrainingQueueEvent) => void;

  private readonly running = new Map<number, { done: Promise<void>; abort: AbortController }>();
  /** Jobs this instance queued or joined, until they finish (whoever runs them). */
  private readonly mine = new Set<number>();
  private readonly finishWaiters = new Map<number, Array<(job: TrainingJobRow) => void>>();
  private working = false;
  private timer: NodeJS.Timeout | undefined;
  private filling: Promise<void> | undefined;
  private fillAgain = false;
  private closing: Promise<void> | undefined;

  constructor(options: DatabaseQueueOptions) {
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
  }

  /** Starts running jobs: now, every `poll_ms`, and whenever a job is queued or finished here. */
  startWorking(): void {
    if (this.working || this.closing) return;
    this.working = true;
    this.timer = setInterval(() => this.fill(), this.settings.poll_ms);
    this.fill();
  }

  async enqueue(request: TrainingJobRequest): Promise<TrainingJobRow> {
    if (this.closing) throw new Error('the training queue is closed');
    const key = activeKey(request);
    const jobs = this.store.repos.trainingJob;
    let job: TrainingJobRow | null = null;
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
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        // The same training is queued or running already: this request joins it (unless it finished meanwhile).
        job = await jobs.findOneBy({ active_key: key });
      }
    }
    if (!job) throw new Error(`${request.symbol}: could not queue the ${request.mode} training (${key}): it kept finishing as it was joined`);
    this.mine.add(job.id);
    this.fill();
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
    const key = activeKey({ symbol: job.symbol, mode: job.training_type as TrainingMode, session: job.session ?? undefined });
    try {
      const retried = await jobs.update({ id, status: 'failed' }, { status: 'queued', attempts: 0, active_key: key, started_at: null, finished_at: null, run_id: null, version_id: null });
      if (retried.affected !== 1) throw new Error(`training job ${id} changed meanwhile: look again`);
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      const active = await jobs.findOneBy({ active_key: key });
      throw new Error(`training job ${id} is not retried: the same training is already ${active?.status ?? 'active'} as job ${active?.id ?? '?'}`);
    }
    this.mine.add(id);
    this.fill();
    return jobs.findOneByOrFail({ id });
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

  private async shutDown(release: boolean): Promise<void> {
    clearInterval(this.timer);
    await this.filling;
    if (release) for (const { abort } of this.running.values()) abort.abort(new ReleasedJob());
    await Promise.all([...this.running.values()].map((r) => r.done));
  }

  /** One pass at a time, and another pass when something changed meanwhile. */
  private fill(): void {
    if (!this.working || this.closing) return;
    if (this.filling) {
      this.fillAgain = true;
      return;
    }
    this.filling = this.recoverAndClaim()
      .catch((error: unknown) => this.logger?.warn('training queue: scheduling failed; trying again', { error: messageOf(error) }))
      .finally(() => {
        this.filling = undefined;
        if (this.fillAgain) {
          this.fillAgain = false;
          this.fill();
        }
      });
  }

  private async recoverAndClaim(): Promise<void> {
    await this.recoverAbandoned();
    const queued = await this.store.repos.trainingJob.find({ where: { status: 'queued' }, order: { id: 'ASC' }, take: 50 });
    // A symbol passed over keeps its later jobs waiting too: one symbol's jobs run in the order they came.
    const passedOver = new Set<string>();
    for (const job of queued) {
      if (this.closing || this.running.size >= this.concurrency) return;
      if (passedOver.has(job.symbol)) continue;
      passedOver.add(job.symbol);
      const owner = `${this.worker} job ${job.id}`;
      if (!(await this.lock.acquire(job.symbol, owner, this.settings.lease_ms))) continue;
      const now = new Date();
      const claimed = await this.store.repos.trainingJob.update(
        { id: job.id, status: 'queued' },
        { status: 'running', worker: this.worker, lease_expires_at: new Date(now.getTime() + this.settings.lease_ms), attempts: job.attempts + 1, started_at: now, error: null },
      );
      if (claimed.affected !== 1 || this.closing) {
        if (claimed.affected === 1) await this.requeue(job.id, 'the queue closed as the job was claimed');
        await this.lock.release(job.symbol, owner);
        continue;
      }
      this.start(await this.store.repos.trainingJob.findOneByOrFail({ id: job.id }), owner);
    }
  }

  /** Running jobs whose worker is gone: its lease ran out, or it ran on this host and its process has ended. */
  private async recoverAbandoned(): Promise<void> {
    const running = await this.store.repos.trainingJob.find({ where: { status: 'running' } });
    const now = new Date();
    for (const job of running) {
      if (this.running.has(job.id) || !job.worker) continue;
      const gone = isDeadLocalWorker(job.worker) ? 'its process has ended' : job.lease_expires_at && job.lease_expires_at < now ? 'its lease ran out' : null;
      if (!gone) continue;
      const what = `worker ${job.worker} died during the job (attempt ${job.attempts} of ${this.settings.max_attempts}: ${gone})`;
      const last = job.attempts >= this.settings.max_attempts;
      const change: JobChange = last
        ? { status: 'failed', finished_at: now, error: what, worker: null, lease_expires_at: null, active_key: null }
        : { status: 'queued', error: `${what}; queued again`, worker: null, lease_expires_at: null };
      // Only one process recovers it: the update matches while the dead worker is still named.
      const taken = await this.store.repos.trainingJob.update({ id: job.id, status: 'running', worker: job.worker }, change);
      if (taken.affected !== 1) continue;
      this.logger?.warn(`training queue: job ${job.id} (${job.symbol}): ${what}; ${last ? 'failed' : 'queued again'}`);
      await new TrainingLog(this.store).recordFailure({ symbol: job.symbol, error: new Error(what), trainingType: job.training_type, triggerType: job.trigger_type });
      await this.store.repos.trainingLock.delete({ symbol: job.symbol, owner: `${job.worker} job ${job.id}` });
      if (last) this.notifyFinished(await this.store.repos.trainingJob.findOneByOrFail({ id: job.id }));
    }
  }

  private start(job: TrainingJobRow, owner: string): void {
    const abort = new AbortController();
    const done = this.execute(job, owner, abort)
      .catch((error: unknown) => this.logger?.error(`training queue: job ${job.id} (${job.symbol}) could not be recorded`, { error: messageOf(error) }))
      .finally(() => {
        this.running.delete(job.id);
        this.fill();
      });
    this.running.set(job.id, { done, abort });
  }

  /** Runs one claimed job: renews its lease and lock, records the outcome, and releases the lock. */
  private async execute(job: TrainingJobRow, owner: string, abort: AbortController): Promise<void> {
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
    const request: TrainingJobRequest = {
      symbol,
      mode: job.training_type as TrainingMode,
      trigger: job.trigger_type,
      ...(job.session && { session: job.session }),
      ...(job.data_start && { start: job.data_start }),
      ...(job.data_end && { end: job.data_end }),
    };
    let progressWrite = Promise.resolve();
    try {
      this.emit({ type: 'started', job });
      try {
        const summary = await this.run(request, {
          signal: abort.signal,
          fence: { jobId: id, worker: this.worker },
          onProgress: (progress) => {
            this.emit({ type: 'progress', job, progress });
            progressWrite = progressWrite.then(() => jobs.update({ id, worker: this.worker }, { progress_json: progress as never })).then(() => undefined, () => undefined);
          },
        });
        await progressWrite;
        const succeeded = await this.finish(id, { status: 'succeeded', run_id: summary.run_id, version_id: summary.version_id, error: null });
        if (succeeded) this.emit({ type: 'completed', job: succeeded, summary });
      } catch (error) {
        await progressWrite;
        if (abort.signal.aborted && abort.signal.reason instanceof ReleasedJob) {
          await this.requeue(id, 'the worker was stopped; queued again');
          return;
        }
        // Stopped at a lease renewal, or refused its commit (claimCommit): a cancellation, not a failure.
        if ((await jobs.findOneBy({ id }))?.error === CANCEL_REQUESTED) {
          const error = `cancelled while running on worker ${this.worker}`;
          const cancelled = await this.finish(id, { status: 'failed', error });
          if (cancelled) this.emit({ type: 'failed', job: cancelled, error });
          return;
        }
        // The trainer records its own failures; a worker process that died before reporting could not.
        if (error instanceof WorkerExitError) await new TrainingLog(this.store).recordFailure({ symbol, error, trainingType: request.mode, triggerType: request.trigger });
        const failed = await this.finish(id, { status: 'failed', error: messageOf(error) });
        if (failed) this.emit({ type: 'failed', job: failed, error: messageOf(error) });
      }
    } finally {
      clearInterval(renewTimer);
      await renewal;
      await this.lock.release(symbol, owner);
    }
  }

  /** Records the job's end if this worker still holds it; null when another worker took it over meanwhile. */
  private async finish(id: number, change: JobChange): Promise<TrainingJobRow | null> {
    const jobs = this.store.repos.trainingJob;
    const done = await jobs.update({ id, status: 'running', worker: this.worker }, { ...change, finished_at: new Date(), worker: null, lease_expires_at: null, active_key: null });
    if (done.affected !== 1) return null;
    const job = await jobs.findOneByOrFail({ id });
    this.notifyFinished(job);
    return job;
  }

  private async requeue(id: number, why: string): Promise<void> {
    await this.store.repos.trainingJob.update({ id, status: 'running', worker: this.worker }, { status: 'queued', worker: null, lease_expires_at: null, started_at: null, error: why });
  }

  private notifyFinished(job: TrainingJobRow): void {
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
