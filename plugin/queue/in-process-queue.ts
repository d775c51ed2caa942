/**
 * The training queue of one process: jobs are rows of `lstm_training_job` (queued → running → succeeded or
 * failed), at most `concurrency` of them run at once, and each first takes its symbol's lock in the
 * database, so that no two trainings of a symbol overlap anywhere — in this process or any other sharing
 * the database. A job whose symbol is locked stays queued and is tried again; it never fails for waiting.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { In } from 'typeorm';
import type { PluginConfig } from '../config.js';
import type { Logger } from '../host.js';
import { TrainingLog } from '../registry/training-log.js';
import { parseDatabaseUrl } from '../store/database-url.js';
import type { TrainingJobRow } from '../store/entities.js';
import type { Store } from '../store/store.js';
import { childProcessRunner, inlineRunner, WorkerExitError, type JobRunner, type RunnerKind } from './job-runners.js';
import { TrainingLock } from './training-lock.js';
import { RECENT_JOBS, type QueueState, type TrainingJobRequest, type TrainingQueue, type TrainingQueueEvent } from './training-queue.js';

export interface InProcessQueueOptions {
  /** The plugin's open store: job rows and locks are written through it. */
  store: Store;
  /** The URL `store` was opened with; each child process opens its own connection with it. */
  databaseUrl: string | undefined;
  /** The resolved configuration: feature names and training settings. */
  config: PluginConfig;
  /** Trainings at once (default `triggers.concurrency` of the configuration). */
  concurrency?: number;
  /**
   * Default `child-process`; `inline` (chosen for a `sqlite::memory:` database, which a child cannot open) trains
   * in this process and blocks its event loop while each fit runs.
   */
  runner?: RunnerKind;
  /** How long a lock outlives its last renewal (default 30 min); it is renewed every third of that while the job runs. */
  lockTtlMs?: number;
  /** How soon a job whose symbol is locked elsewhere is tried again (default 5 s). */
  lockRetryMs?: number;
  logger?: Logger;
  /** Every job's start, progress and end, for the plugin to forward as `lstm:training:*` events. */
  onEvent?: (event: TrainingQueueEvent) => void;
}

const DEFAULT_LOCK_TTL_MS = 30 * 60_000;
const DEFAULT_LOCK_RETRY_MS = 5_000;

interface PendingJob {
  job: TrainingJobRow;
  request: TrainingJobRequest;
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

export class InProcessTrainingQueue implements TrainingQueue {
  readonly concurrency: number;
  readonly runnerKind: RunnerKind;
  private readonly store: Store;
  private readonly lock: TrainingLock;
  private readonly run: JobRunner;
  private readonly lockTtlMs: number;
  private readonly lockRetryMs: number;
  private readonly logger?: Logger;
  private readonly onEvent?: (event: TrainingQueueEvent) => void;
  /** Names this instance in lock owners, so two queues in one process are two holders. */
  private readonly instance = randomUUID().slice(0, 8);

  private readonly pending: PendingJob[] = [];
  private readonly running = new Map<number, Promise<void>>();
  private readonly runningSymbols = new Set<string>();
  private filling: Promise<void> | undefined;
  private fillAgain = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private idleWaiters: Array<() => void> = [];
  private closing: Promise<void> | undefined;

  constructor(options: InProcessQueueOptions) {
    this.store = options.store;
    this.lock = new TrainingLock(options.store);
    this.concurrency = options.concurrency ?? options.config.triggers.concurrency;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) throw new Error(`training queue concurrency must be a positive integer, not ${this.concurrency}`);
    this.lockTtlMs = options.lockTtlMs ?? DEFAULT_LOCK_TTL_MS;
    this.lockRetryMs = options.lockRetryMs ?? DEFAULT_LOCK_RETRY_MS;
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

  async enqueue(request: TrainingJobRequest): Promise<TrainingJobRow> {
    if (this.closing) throw new Error('the training queue is closed');
    const { identifiers } = await this.store.repos.trainingJob.insert({
      symbol: request.symbol,
      training_type: request.mode,
      trigger_type: request.trigger,
      session: request.session ?? null,
      status: 'queued',
    });
    const job = await this.store.repos.trainingJob.findOneByOrFail({ id: identifiers[0]!.id as number });
    if (this.closing) {
      await this.discard(job);
      throw new Error('the training queue is closed');
    }
    // In id order, whatever order concurrent inserts returned in: a symbol's jobs run in the order the database numbered them.
    const later = this.pending.findIndex((entry) => entry.job.id > job.id);
    this.pending.splice(later < 0 ? this.pending.length : later, 0, { job, request });
    this.fill();
    return job;
  }

  async state(): Promise<QueueState> {
    const jobs = this.store.repos.trainingJob;
    const [running, queued, recent] = await Promise.all([
      jobs.find({ where: { status: 'running' }, order: { started_at: 'ASC', id: 'ASC' } }),
      jobs.find({ where: { status: 'queued' }, order: { id: 'ASC' } }),
      jobs.find({ where: { status: In(['succeeded', 'failed']) }, order: { finished_at: 'DESC', id: 'DESC' }, take: RECENT_JOBS }),
    ]);
    return { concurrency: this.concurrency, running, queued, recent };
  }

  onIdle(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await this.filling;
    // Jobs that never started: nobody will run them now.
    for (const { job } of this.pending.splice(0)) await this.discard(job);
    await Promise.all(this.running.values());
    this.settleIdle();
  }

  /** A job that will never run here (the queue closed first) ends failed, so it does not look queued forever. */
  private async discard(job: TrainingJobRow): Promise<void> {
    const error = 'the training queue was closed before the job started';
    this.emit({ type: 'failed', job: await this.updateJob(job.id, { status: 'failed', finished_at: new Date(), error }), error });
  }

  private idle(): boolean {
    return this.pending.length === 0 && this.running.size === 0;
  }

  private settleIdle(): void {
    if (!this.idle()) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /** Starts what can start; one pass at a time, and another pass when something changed meanwhile. */
  private fill(): void {
    if (this.filling) {
      this.fillAgain = true;
      return;
    }
    this.filling = this.startReadyJobs()
      .catch((error: unknown) => this.logger?.error('training queue: scheduling failed', { error: messageOf(error) }))
      .finally(() => {
        this.filling = undefined;
        if (this.fillAgain) {
          this.fillAgain = false;
          this.fill();
        }
      });
  }

  private async startReadyJobs(): Promise<void> {
    // A symbol passed over keeps its later jobs waiting too: one symbol's jobs run in the order they came.
    const passedOver = new Set<string>();
    let retryLater = false;
    for (const entry of [...this.pending]) {
      if (this.closing || this.running.size >= this.concurrency) break;
      const { symbol } = entry.job;
      if (passedOver.has(symbol) || this.runningSymbols.has(symbol)) {
        passedOver.add(symbol);
        continue;
      }
      const owner = this.ownerOf(entry.job);
      let acquired = false;
      try {
        acquired = await this.lock.acquire(symbol, owner, this.lockTtlMs);
      } catch (error) {
        this.logger?.warn(`training queue: ${symbol}: the lock could not be taken; trying again`, { error: messageOf(error) });
      }
      if (!acquired) {
        passedOver.add(symbol);
        retryLater = true;
        continue;
      }
      if (this.closing) {
        await this.lock.release(symbol, owner);
        break;
      }
      this.pending.splice(this.pending.indexOf(entry), 1);
      this.start(entry, owner);
    }
    // Nothing announces the release of a lock held elsewhere (or the end of a database hiccup): look again later.
    if (retryLater && !this.closing) {
      this.retryTimer ??= setTimeout(() => {
        this.retryTimer = undefined;
        this.fill();
      }, this.lockRetryMs);
    }
  }

  private start(entry: PendingJob, owner: string): void {
    const { id, symbol } = entry.job;
    this.runningSymbols.add(symbol);
    const done = this.execute(entry, owner)
      .catch((error: unknown) => this.logger?.error(`training queue: job ${id} (${symbol}) could not be recorded`, { error: messageOf(error) }))
      .finally(() => {
        this.running.delete(id);
        this.runningSymbols.delete(symbol);
        this.fill();
        this.settleIdle();
      });
    this.running.set(id, done);
  }

  /** Runs one job that holds its symbol's lock, keeps the lock renewed, records the outcome, and releases the lock. */
  private async execute({ job, request }: PendingJob, owner: string): Promise<void> {
    const { symbol } = job;
    const abort = new AbortController();
    let renewal = Promise.resolve();
    const renewTimer = setInterval(() => {
      renewal = renewal
        .then(async () => {
          if (!(await this.lock.renew(symbol, owner, this.lockTtlMs))) {
            this.logger?.error(`training queue: ${symbol}: job ${job.id} lost its training lock (it expired and another holder took it)`);
            abort.abort(new Error(`job ${job.id} lost the training lock of ${symbol} (it expired and another holder took it)`));
          }
        })
        .catch((error: unknown) => this.logger?.warn(`training queue: ${symbol}: renewing the lock failed`, { error: messageOf(error) }));
    }, this.lockTtlMs / 3);
    try {
      const running = await this.updateJob(job.id, { status: 'running', started_at: new Date() });
      this.emit({ type: 'started', job: running });
      try {
        const summary = await this.run(request, { signal: abort.signal, onProgress: (progress) => this.emit({ type: 'progress', job: running, progress }) });
        const succeeded = await this.updateJob(job.id, { status: 'succeeded', finished_at: new Date(), run_id: summary.run_id, version_id: summary.version_id });
        this.emit({ type: 'completed', job: succeeded, summary });
      } catch (error) {
        // The trainer records its own failures; a worker that died before reporting could not.
        if (error instanceof WorkerExitError) {
          await new TrainingLog(this.store).recordFailure({ symbol, error, trainingType: request.mode, triggerType: request.trigger });
        }
        const message = messageOf(error);
        const failed = await this.updateJob(job.id, { status: 'failed', finished_at: new Date(), error: message });
        this.emit({ type: 'failed', job: failed, error: message });
      }
    } finally {
      clearInterval(renewTimer);
      await renewal;
      await this.lock.release(symbol, owner);
    }
  }

  /** Updates the job's row and returns it as stored. */
  private async updateJob(id: number, change: Partial<TrainingJobRow>): Promise<TrainingJobRow> {
    await this.store.repos.trainingJob.update({ id }, change);
    return this.store.repos.trainingJob.findOneByOrFail({ id });
  }

  private ownerOf(job: TrainingJobRow): string {
    return `${hostname()}:${process.pid}:${this.instance}:job ${job.id}`.slice(-128);
  }

  private emit(event: TrainingQueueEvent): void {
    try {
      this.onEvent?.(event);
    } catch (error) {
      this.logger?.error(`training queue: an event listener failed on ${event.type} of job ${event.job.id}`, { error: messageOf(error) });
    }
  }
}
