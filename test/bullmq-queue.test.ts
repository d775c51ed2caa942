/**
 * The BullMQ engine on a real Redis and a database other processes can open (a SQLite file; MariaDB/MySQL when
 * configured): one BullMQ job per job row however often it is enqueued, BullMQ's retry with backoff of a training
 * process that died, the per-job timeout, cancel and retry, and rows that Redis lost (it keeps nothing on disk)
 * added again by the worker.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BarStore, openTrainingQueue, resolveConfig, Store, type DailyBar, type TrainingQueueEvent, type WorkingQueue } from '../plugin/index.js';
import type { QueueSettings } from '../plugin/config.js';
import { sharedDatabases, useSharedDatabase } from './support/shared-databases.js';
import { deleteQueueKeys, describeRedis, redisUrl, uniqueQueueName } from './support/redis.js';
import { killTrainingProcess } from './support/kill-training.js';
import { spxBars } from './support/spx.js';

const config = resolveConfig({ training: { fast_params: { lr: 0.003, hidden: 4, epochs: 1 }, importance_repeats: 0, skill_gate: false, arima_baseline: false, holdout_sessions: 20, batch_size: 128 } });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const renamed = (bars: readonly DailyBar[], symbol: string) => bars.map((bar) => ({ ...bar, symbol }));

describeRedis.each(sharedDatabases)('BullMQ queue on Redis and a $name database', (db) => {
  const database = useSharedDatabase(db);
  const queues: WorkingQueue[] = [];
  const stores: Store[] = [];
  let name: string;

  /** A queue of this test on its own BullMQ name, recording its events. */
  async function openQueue(settings: Partial<QueueSettings> = {}, events: TrainingQueueEvent[] = [], store = database.store()): Promise<WorkingQueue> {
    const queue = await openTrainingQueue({
      store,
      databaseUrl: database.url(),
      config,
      concurrency: 1,
      settings: { url: redisUrl!, name, poll_ms: 100, lease_ms: 3_000, ...settings },
      onEvent: (e) => events.push(e),
    });
    queues.push(queue);
    return queue;
  }
  /** What Redis holds of the queue: BullMQ's counts by state. */
  async function bullCounts(): Promise<Record<string, number>> {
    const queue = new Queue('training', { connection: new Redis(redisUrl!, { maxRetriesPerRequest: null }), prefix: name });
    try {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized');
      return Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));
    } finally {
      await queue.close();
      (await queue.client).disconnect();
    }
  }

  beforeAll(async () => {
    const spx = (await spxBars()).slice(-500);
    await new BarStore(database.store()).ingest(['BA', 'BB', 'BC', 'BD', 'BE'].flatMap((symbol) => renamed(spx, symbol)).concat(renamed(spx.slice(0, 60), 'TINY')));
  });
  afterEach(async () => {
    for (const queue of queues.splice(0)) await queue.close();
    for (const store of stores.splice(0)) await store.close();
    await deleteQueueKeys(name);
  });
  const fresh = () => (name = uniqueQueueName());

  it('100 enqueues of one symbol and session from two processes are one job row, one BullMQ job and one training', async () => {
    fresh();
    const other = await Store.open({ url: database.url(), migrate: false });
    stores.push(other);
    const [a, b] = [await openQueue(), await openQueue({}, [], other)];
    expect(a.engine).toBe('bullmq');
    const request = { symbol: 'BA', mode: 'fast' as const, trigger: 'weekly', session: '2020-04-17' };
    const jobs = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).enqueue(request)));
    expect(new Set(jobs.map((j) => j.id)).size).toBe(1);
    expect(await database.store().repos.trainingJob.countBy({ symbol: 'BA' })).toBe(1);
    expect(await bullCounts()).toEqual({ waiting: 1 });

    a.startWorking();
    const done = await a.finished(jobs[0]!.id);
    expect(done).toMatchObject({ status: 'succeeded', attempts: 1, error: null, worker: null, active_key: null });
    expect(await database.store().repos.trainingRun.countBy({ symbol: 'BA' })).toBe(1);
    // Completed jobs leave Redis: the row is the record.
    expect(await bullCounts()).toEqual({});
  });

  it('a training process that dies is retried by BullMQ after its backoff, and the second attempt deploys', async () => {
    fresh();
    const events: TrainingQueueEvent[] = [];
    const queue = await openQueue({}, events);
    queue.startWorking();
    const queued = await queue.enqueue({ symbol: 'BB', mode: 'fast', trigger: 'manual' });
    while (!events.some((e) => e.type === 'started')) await sleep(20);
    await killTrainingProcess();
    const done = await queue.finished(queued.id);
    expect(done).toMatchObject({ status: 'succeeded', attempts: 2, error: null });
    const failures = (await database.store().repos.trainingFailure.find({ where: { symbol: 'BB' } })).map((f) => f.error_message.split('\n')[0]);
    expect(failures).toEqual(['WorkerExitError: the training worker exited (SIGKILL) before reporting an outcome']);
    const runs = await database.store().repos.trainingRun.find({ where: { symbol: 'BB' } });
    expect(runs.map((r) => r.version_id)).toEqual([done.version_id]);
    // Started twice, never reported failed: the crash was retried, not the end of the job.
    expect(events.filter((e) => e.type === 'started')).toHaveLength(2);
    expect(events.filter((e) => e.type === 'failed')).toEqual([]);
  });

  it('a training past queue.job_timeout_ms is stopped and its job failed as timed out, without a retry', async () => {
    fresh();
    const queue = await openQueue({ job_timeout_ms: 1_000 });
    queue.startWorking();
    const queued = await queue.enqueue({ symbol: 'BC', mode: 'full', trigger: 'manual' });
    const done = await queue.finished(queued.id);
    const error = 'timed out: still running after 1 s (queue.job_timeout_ms)';
    expect(done).toMatchObject({ status: 'failed', attempts: 1, error, run_id: null });
    const failures = (await database.store().repos.trainingFailure.find({ where: { symbol: 'BC' } })).map((f) => f.error_message.split('\n')[0]);
    expect(failures).toContain(`WorkerExitError: ${error}`);
    expect(await database.store().repos.trainingRun.countBy({ symbol: 'BC' })).toBe(0);
    await sleep(500);
    expect((await bullCounts()).failed).toBe(1);
    expect(await database.store().repos.trainingLock.countBy({ symbol: 'BC' })).toBe(0);
  });

  it('a failed job retried runs again through BullMQ; a job cancelled while queued never trains', async () => {
    fresh();
    const queue = await openQueue();
    const tiny = await queue.enqueue({ symbol: 'TINY', mode: 'fast', trigger: 'manual' });
    const cancelled = await queue.enqueue({ symbol: 'BD', mode: 'fast', trigger: 'manual' });
    expect(await queue.cancel(cancelled.id)).toMatchObject({ status: 'failed', error: 'cancelled while queued' });
    queue.startWorking();

    const failed = await queue.finished(tiny.id);
    expect(failed).toMatchObject({ status: 'failed', attempts: 1, error: 'too few samples (0) for a holdout of 20 with gap 5' });
    expect(await queue.retry(tiny.id)).toMatchObject({ status: 'queued', attempts: 0 });
    expect(await queue.finished(tiny.id)).toMatchObject({ status: 'failed', attempts: 1, error: failed.error });
    expect(await database.store().repos.trainingFailure.countBy({ symbol: 'TINY' })).toBe(2);
    await queue.onIdle();
    expect(await database.store().repos.trainingRun.countBy({ symbol: 'BD' })).toBe(0);
    expect(await database.store().repos.trainingFailure.countBy({ symbol: 'BD' })).toBe(0);
    expect(await database.store().repos.trainingJob.findOneByOrFail({ id: cancelled.id })).toMatchObject({ status: 'failed', attempts: 0 });
  });

  it('a worker closed with release gives its running job back, and another worker runs it to the end', async () => {
    fresh();
    const events: TrainingQueueEvent[] = [];
    const first = await openQueue({}, events);
    first.startWorking();
    const queued = await first.enqueue({ symbol: 'BA', mode: 'full', trigger: 'manual' });
    while (!events.some((e) => e.type === 'progress')) await sleep(20);
    await first.close({ release: true });
    expect(await database.store().repos.trainingJob.findOneByOrFail({ id: queued.id })).toMatchObject({ status: 'queued', worker: null, error: 'the worker was stopped; queued again' });

    const second = await openQueue({ job_timeout_ms: 2_000 });
    second.startWorking();
    // The second worker's start is what counts; a short timeout ends the long full training quickly.
    expect(await second.finished(queued.id)).toMatchObject({ status: 'failed', attempts: 2, error: 'timed out: still running after 2 s (queue.job_timeout_ms)' });
  });

  it('jobs Redis lost (restarted without persistence) are added again by the worker and run', async () => {
    fresh();
    const producer = await openQueue();
    const queued = await producer.enqueue({ symbol: 'BE', mode: 'fast', trigger: 'manual' });
    expect(await bullCounts()).toEqual({ waiting: 1 });
    expect(await deleteQueueKeys(name)).toBeGreaterThan(0);
    expect(await bullCounts()).toEqual({});

    const worker = await openQueue();
    worker.startWorking();
    expect(await worker.finished(queued.id)).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(await database.store().repos.trainingRun.countBy({ symbol: 'BE' })).toBe(1);
  });
});

describe('queue engine selection', () => {
  const store = {} as Store;
  it('BullMQ needs a database other processes can open', async () => {
    await expect(openTrainingQueue({ store, databaseUrl: 'sqlite::memory:', config, settings: { url: 'redis://127.0.0.1:6379' } })).rejects.toThrow(
      'the BullMQ queue (redis://127.0.0.1:6379) needs a database other processes can open, not sqlite::memory:',
    );
  });
});
