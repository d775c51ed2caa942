/**
 * The BullMQ engine (`queue.url: redis://…` or LSTM_REDIS_URL): queued jobs reach workers on any number of machines
 * through BullMQ on Redis; the job rows in the database stay the record (who ran what, attempts, progress, the
 * outcome), so `state()`, `GET /jobs` and the commit fence read the same as with the embedded engine.
 *
 * From BullMQ: delivery to one worker at a time, its stalled-job detection (a worker that stops renewing its lock
 * for `lease_ms` has its job moved back to waiting), retries with exponential backoff of a training process that
 * died, progress, and job ids (`training-<row id>`: an enqueue joined to an active row adds nothing). The per-symbol
 * exclusion is the database lock, which a dead worker's process does not keep. Redis may lose everything (it keeps
 * nothing on disk here): each worker re-adds, at start and every few polls, any active row that has no live job.
 */
import { DelayedError, Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { In } from 'typeorm';
import type { TrainingJobRow } from '../store/entities.js';
import { FINISHED, JobTableQueue, messageOf, type QueueOptions } from './job-table.js';

/** Polls between two reconciliations of the job rows with Redis. */
const RECONCILE_EVERY_POLLS = 5;
const LIVE_STATES = new Set(['waiting', 'delayed', 'active', 'prioritized', 'waiting-children']);

interface JobData {
  id: number;
}

export class BullmqTrainingQueue extends JobTableQueue {
  readonly engine = 'bullmq' as const;
  protected override readonly retriesCrashes = true;
  private readonly url: string;
  private readonly producer: Redis;
  private readonly queue: Queue<JobData>;
  private bullWorker: Worker<JobData> | undefined;
  /** The worker's connection: BullMQ does not close a connection it was given. */
  private workerConnection: Redis | undefined;
  private reconcileTimer: NodeJS.Timeout | undefined;

  constructor(options: QueueOptions & { url: string }) {
    super(options);
    this.url = options.url;
    // Enqueuing fails fast while Redis is away: the row stays queued and a worker's reconciliation adds it later.
    this.producer = new Redis(this.url, { maxRetriesPerRequest: 1, lazyConnect: true });
    this.producer.on('error', (error) => this.logger?.debug?.('training queue: Redis connection', { error: error.message }));
    this.queue = new Queue<JobData>('training', { connection: this.producer, prefix: this.settings.name });
  }

  startWorking(): void {
    if (this.bullWorker || this.closing) return;
    const connection = (this.workerConnection = new Redis(this.url, { maxRetriesPerRequest: null }));
    connection.on('error', (error) => this.logger?.warn('training queue: Redis connection', { error: error.message }));
    this.bullWorker = new Worker<JobData>('training', (job, token) => this.process(job, token), {
      connection,
      prefix: this.settings.name,
      concurrency: this.concurrency,
      lockDuration: this.settings.lease_ms,
      stalledInterval: Math.max(1000, Math.round(this.settings.lease_ms / 2)),
      // Our own count of starts (the row's attempts) decides when a job that keeps losing its worker fails.
      maxStalledCount: this.settings.max_attempts,
    });
    this.bullWorker.on('error', (error) => this.logger?.warn('training queue: BullMQ worker', { error: messageOf(error) }));
    const reconcile = () => void this.reconcile().catch((error: unknown) => this.logger?.warn('training queue: reconciling the jobs with Redis failed; trying again', { error: messageOf(error) }));
    this.reconcileTimer = setInterval(reconcile, this.settings.poll_ms * RECONCILE_EVERY_POLLS);
    reconcile();
    this.startHelping();
  }

  protected async scheduled(job: TrainingJobRow): Promise<void> {
    try {
      await this.add(job);
    } catch (error) {
      this.logger?.warn(`training queue: job ${job.id} (${job.symbol}) is queued in the database but not yet in Redis; a worker adds it when Redis answers`, { error: messageOf(error) });
    }
  }

  protected async shutDown(release: boolean): Promise<void> {
    clearInterval(this.reconcileTimer);
    const stopping = this.bullWorker?.close();
    await this.releaseRunning(release);
    await stopping;
    await this.queue.close();
    this.workerConnection?.disconnect();
    this.producer.disconnect();
  }

  /** Adds the row's BullMQ job unless a live one exists; a finished one (a retried row) is replaced. */
  private async add(job: TrainingJobRow): Promise<void> {
    const jobId = `training-${job.id}`;
    const existing = await this.queue.getJob(jobId);
    if (existing) {
      if (LIVE_STATES.has(await existing.getState())) return;
      await existing.remove();
    }
    await this.queue.add(`${job.symbol} ${job.training_type}`, { id: job.id }, {
      jobId,
      attempts: this.settings.max_attempts,
      backoff: { type: 'exponential', delay: this.settings.poll_ms },
      removeOnComplete: true,
      removeOnFail: { age: 7 * 24 * 3600 },
    });
  }

  /** Every active row reaches Redis: those queued while it was away, or lost with it. */
  private async reconcile(): Promise<void> {
    const active = await this.store.repos.trainingJob.find({ where: { status: In(['queued', 'running']) }, order: { id: 'ASC' } });
    for (const job of active) if (job.status === 'queued' || this.goneWorker(job)) await this.add(job);
  }

  /** BullMQ's processor: claims the row and runs it; a symbol busy elsewhere or a live running row waits its turn. */
  private async process(bullJob: Job<JobData>, token: string | undefined): Promise<{ version_id: string | null } | void> {
    const row = await this.store.repos.trainingJob.findOneBy({ id: bullJob.data.id });
    if (!row || FINISHED.includes(row.status)) return;
    const later = async (): Promise<never> => {
      await bullJob.moveToDelayed(Date.now() + this.settings.poll_ms, token);
      throw new DelayedError();
    };
    let queued = row;
    if (row.status === 'running') {
      // Stalled in BullMQ: its worker stopped renewing. The row says whether that worker is really gone.
      const gone = this.goneWorker(row);
      if (!gone) return later();
      if ((await this.abandon(row, gone)) !== 'queued') return;
      queued = await this.store.repos.trainingJob.findOneByOrFail({ id: row.id });
    }
    const claimed = await this.claim(queued);
    if (!claimed) return later();
    const end = await this.start(claimed.job, claimed.owner, (progress) => void bullJob.updateProgress(progress as never).catch(() => undefined));
    const final = await this.store.repos.trainingJob.findOneBy({ id: row.id });
    if (end === 'released') return later();
    if (end === 'retry') throw new Error(final?.error ?? 'the training process died');
    if (end === 'succeeded') return { version_id: final?.version_id ?? null };
    if (end === 'failed' || end === 'cancelled') throw new UnrecoverableError(final?.error ?? end);
  }
}
