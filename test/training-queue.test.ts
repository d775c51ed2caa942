import { createHook } from 'node:async_hooks';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BarStore, ModelRegistry, Store, resolveConfig, type DailyBar } from '../plugin/index.js';
import { DatabaseTrainingQueue } from '../plugin/queue/database-queue.js';
import type { QueueOptions } from '../plugin/queue/job-table.js';
import { TrainingLock } from '../plugin/queue/training-lock.js';
import type { TrainingQueueEvent } from '../plugin/queue/training-queue.js';
import type { TrainingJobRow } from '../plugin/store/entities.js';
import { testDatabases, type TestDatabase } from './support/databases.js';
import { killTrainingProcess } from './support/kill-training.js';
import { spxBars } from './support/spx.js';

/** The real procedure, shrunk to a few seconds a training. */
const config = resolveConfig({ training: { fast_params: { lr: 0.003, hidden: 4, epochs: 1 }, importance_repeats: 0, skill_gate: false, arima_baseline: false, holdout_sessions: 20, batch_size: 128 } });
const SESSIONS = 500;

/** Child processes open the database too, so SQLite runs on a temporary file rather than `sqlite::memory:`. */
const databases: TestDatabase[] = testDatabases.map((db) =>
  db.name === 'sqlite'
    ? {
        name: 'sqlite',
        create: async () => {
          const dir = await mkdtemp(path.join(tmpdir(), 'lstm-queue-'));
          return { url: `sqlite:${path.join(dir, 'queue.sqlite')}`, drop: () => rm(dir, { recursive: true, force: true }) };
        },
      }
    : db,
);

const renamed = (bars: readonly DailyBar[], symbol: string) => bars.map((bar) => ({ ...bar, symbol }));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const span = (job: TrainingJobRow) => ({ start: job.started_at!.getTime(), end: job.finished_at!.getTime() });
const overlap = (a: TrainingJobRow, b: TrainingJobRow) => span(a).start < span(b).end && span(b).start < span(a).end;
const ids = (jobs: readonly TrainingJobRow[]) => jobs.map((job) => job.id);

/** The most jobs running at one instant, from their recorded start and finish times. */
function mostAtOnce(jobs: readonly TrainingJobRow[]): number {
  const edges = jobs.flatMap((job) => [{ t: span(job).start, d: 1 }, { t: span(job).end, d: -1 }]).sort((a, b) => a.t - b.t || a.d - b.d);
  let now = 0;
  let most = 0;
  for (const edge of edges) most = Math.max(most, (now += edge.d));
  return most;
}

const QUEUE_MODULES = `${path.sep}plugin${path.sep}queue${path.sep}`;

/** Timers, child processes and pipes the queue's modules created (not a library they called) and that are not yet destroyed. */
function watchQueueResources(): { live: () => string[]; stop: () => void } {
  const live = new Map<number, string>();
  const hook = createHook({
    init(id, type) {
      if (!['Timeout', 'PROCESSWRAP', 'PIPEWRAP'].includes(type)) return;
      // The first frame outside Node's own code, below this hook's, is whoever asked for the resource.
      const creator = new Error().stack!.split('\n').slice(2).find((frame) => !frame.includes('node:'));
      if (creator?.includes(QUEUE_MODULES)) live.set(id, type);
    },
    destroy(id) {
      live.delete(id);
    },
  }).enable();
  return { live: () => [...live.values()], stop: () => void hook.disable() };
}

describe.each(databases)('training queue on $name', (db) => {
  let url: string;
  let drop: () => Promise<void>;
  let store: Store;
  const stores: Store[] = [];
  const queues: DatabaseTrainingQueue[] = [];

  /** A queue of this test, closed after it, recording its events in `events`. */
  function openQueue(options: Partial<QueueOptions> = {}, events: TrainingQueueEvent[] = []): DatabaseTrainingQueue {
    const queue = new DatabaseTrainingQueue({ store, databaseUrl: url, config, concurrency: 2, settings: { poll_ms: 100 }, onEvent: (e: TrainingQueueEvent) => events.push(e), ...options });
    queue.startWorking();
    queues.push(queue);
    return queue;
  }
  /** Another connection to the same database: what a second process or machine would hold. */
  async function anotherProcess(): Promise<Store> {
    const other = await Store.open({ url, migrate: false });
    stores.push(other);
    return other;
  }
  const job = (id: number) => store.repos.trainingJob.findOneByOrFail({ id });

  beforeEach(async () => {
    ({ url, drop } = await db.create());
    store = await Store.open({ url });
    const spx = (await spxBars()).slice(-SESSIONS);
    await new BarStore(store).ingest([...spx, ...renamed(spx, 'AAA'), ...renamed(spx, 'BBB'), ...renamed(spx.slice(0, 60), 'TINY')]);
  });
  afterEach(async () => {
    for (const queue of queues.splice(0)) await queue.close();
    for (const other of stores.splice(0)) await other.close();
    await store.close();
    await drop();
  });

  it('enqueue returns the queued job at once; once idle it has succeeded with the run and version the trainer recorded', async () => {
    const events: TrainingQueueEvent[] = [];
    const queue = openQueue({ concurrency: 1 }, events);
    expect(queue.runnerKind).toBe('child-process');

    const asked = Date.now();
    const queued = await queue.enqueue({ symbol: 'SPX', mode: 'fast', trigger: 'manual', session: '2020-04-17' });
    expect(Date.now() - asked).toBeLessThan(1000); // a training takes seconds
    expect(queued).toMatchObject({
      symbol: 'SPX', training_type: 'fast', trigger_type: 'manual', session: '2020-04-17', status: 'queued',
      error: null, run_id: null, version_id: null, started_at: null, finished_at: null,
    });

    await queue.onIdle();
    const runs = await store.repos.trainingRun.find();
    expect(runs).toHaveLength(1);
    const run = runs[0]!;
    const done = await job(queued.id);
    expect(done).toMatchObject({ status: 'succeeded', error: null, run_id: run.id, version_id: run.version_id });
    expect(done.started_at!.getTime()).toBeLessThanOrEqual(done.finished_at!.getTime());
    expect(await new ModelRegistry(store).currentVersionId('SPX')).toBe(run.version_id);

    // What plugin.train() emits today, from the child process: started, each epoch and the holdout, then the outcome.
    expect(events.map((e) => e.type)).toEqual(['started', 'progress', 'progress', 'progress', 'progress', 'progress', 'completed']);
    expect(events[0]!.job).toMatchObject({ id: queued.id, status: 'running' });
    const progress = events.flatMap((e) => (e.type === 'progress' ? [e.progress] : []));
    expect(progress.map((p) => `${p.stage} ${p.step}`)).toEqual([
      'cv params 1/1, fold 1/3', 'cv params 1/1, fold 2/3', 'cv params 1/1, fold 3/3', 'refit all but the holdout', 'holdout 20 holdout windows',
    ]);
    expect(events[6]).toEqual({
      type: 'completed',
      job: done,
      summary: {
        version_id: run.version_id, deployed: true, reason: 'first model for this symbol', holdout: run.holdout_metrics_json,
        run_id: run.id, duration_seconds: run.duration_seconds, previous_version_id: null,
      },
    });
    expect(await queue.state()).toEqual({ concurrency: 1, running: [], queued: [], recent: [done] });
  });

  it('runs one symbol at a time and up to `concurrency` symbols at once (measured from the job rows); state() shows it', async () => {
    const events: TrainingQueueEvent[] = [];
    let whileTwoRun: Promise<unknown> | undefined;
    const queue = openQueue({
      concurrency: 2,
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'started' && events.filter((s) => s.type === 'started').length === 2) whileTwoRun = queue.state();
      },
    });
    const queued: TrainingJobRow[] = [];
    // Two sessions' trainings of SPX: one job per symbol, mode and session.
    for (const [symbol, session] of [['SPX', '2020-04-16'], ['SPX', '2020-04-17'], ['AAA', '2020-04-17'], ['BBB', '2020-04-17']] as const) {
      queued.push(await queue.enqueue({ symbol, mode: 'fast', trigger: 'weekly', session }));
    }
    await queue.onIdle();

    const rows = await Promise.all(queued.map((j) => job(j.id)));
    const [first, second, other, last] = rows as [TrainingJobRow, TrainingJobRow, TrainingJobRow, TrainingJobRow];
    expect(rows.map((r) => r.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    expect(span(first).end).toBeLessThanOrEqual(span(second).start); // one symbol: never at once
    expect(overlap(first, other)).toBe(true); // two symbols: at once
    expect(mostAtOnce(rows)).toBe(2);
    expect(span(last).start).toBeGreaterThanOrEqual(Math.min(span(first).end, span(other).end)); // the third symbol waited for a free slot

    expect(await whileTwoRun).toEqual({
      concurrency: 2,
      running: [expect.objectContaining({ id: first.id, status: 'running' }), expect.objectContaining({ id: other.id, status: 'running' })],
      queued: [expect.objectContaining({ id: second.id, status: 'queued' }), expect.objectContaining({ id: last.id, status: 'queued' })],
      recent: [],
    });
    const state = await queue.state();
    expect(state.running).toEqual([]);
    expect(state.queued).toEqual([]);
    expect(ids(state.recent)).toEqual(ids([...rows].sort((a, b) => span(b).end - span(a).end || b.id - a.id)));
  });

  it('a lock held by another process keeps jobs queued until it is released; two queue instances then take turns', async () => {
    const holder = new TrainingLock(await anotherProcess());
    expect(await holder.acquire('SPX', 'other-host:4242:job 7', 60_000)).toBe(true);
    const here = openQueue();
    const elsewhere = openQueue({ store: await anotherProcess() });
    const a = await here.enqueue({ symbol: 'SPX', mode: 'fast', trigger: 'manual' });
    const b = await elsewhere.enqueue({ symbol: 'SPX', mode: 'fast', trigger: 'monthly', session: '2020-03-31' });

    await sleep(600); // six polls each
    const waiting = await here.state();
    expect(ids(waiting.queued)).toEqual([a.id, b.id]);
    expect(waiting.running).toEqual([]);
    expect((await holder.holder('SPX'))?.owner).toBe('other-host:4242:job 7');
    expect(await store.repos.trainingFailure.count()).toBe(0);

    const released = Date.now();
    expect(await holder.release('SPX', 'other-host:4242:job 7')).toBe(true);
    await Promise.all([here.onIdle(), elsewhere.onIdle()]);
    const [ra, rb] = [await job(a.id), await job(b.id)];
    expect([ra.status, rb.status]).toEqual(['succeeded', 'succeeded']);
    expect(Math.min(span(ra).start, span(rb).start)).toBeGreaterThanOrEqual(released);
    expect(overlap(ra, rb)).toBe(false);
    expect(await store.repos.trainingRun.count()).toBe(2);
    expect(await holder.holder('SPX')).toBeNull();
  });

  it('the lock: one winner when two connections race for it, an expired lock taken over by exactly one, renew and release only by the owner', async () => {
    const mine = new TrainingLock(store);
    const theirs = new TrainingLock(await anotherProcess());
    const raced = await Promise.all([mine.acquire('SPX', 'A', 60_000), theirs.acquire('SPX', 'B', 60_000)]);
    expect(raced.filter(Boolean)).toHaveLength(1);
    const winner = raced[0] ? 'A' : 'B';
    const loser = raced[0] ? 'B' : 'A';
    expect((await mine.holder('SPX'))?.owner).toBe(winner);
    expect(await mine.acquire('SPX', 'C', 60_000)).toBe(false); // held and not expired
    expect(await mine.renew('SPX', loser, 60_000)).toBe(false);
    expect(await mine.release('SPX', loser)).toBe(false);
    expect(await mine.renew('SPX', winner, 60_000)).toBe(true);

    // The holder died: its lock expires, and of two processes taking it over only one succeeds.
    await store.repos.trainingLock.update({ symbol: 'SPX' }, { expires_at: new Date(Date.now() - 1000) });
    const before = Date.now();
    const takeover = await Promise.all([mine.acquire('SPX', 'D', 60_000), theirs.acquire('SPX', 'E', 60_000)]);
    expect(takeover.filter(Boolean)).toHaveLength(1);
    const taken = (await mine.holder('SPX'))!;
    expect(taken.owner).toBe(takeover[0] ? 'D' : 'E');
    expect(taken.expires_at.getTime() - taken.acquired_at.getTime()).toBe(60_000);
    expect(taken.acquired_at.getTime()).toBeGreaterThanOrEqual(before);
    expect(await mine.renew('SPX', winner, 60_000)).toBe(false); // the dead holder's renewal comes too late
    expect(await theirs.release('SPX', taken.owner)).toBe(true);
    expect(await mine.holder('SPX')).toBeNull();
  });

  it('100 enqueues of one symbol, mode and session from two processes become one job; once it has finished, the next is a new one', async () => {
    const here = openQueue();
    const elsewhere = openQueue({ store: await anotherProcess() });
    const request = { symbol: 'SPX', mode: 'fast', trigger: 'weekly', session: '2020-04-17' } as const;
    const jobs = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? here : elsewhere).enqueue(request)));
    expect(new Set(jobs.map((j) => j.id)).size).toBe(1);
    await Promise.all([here.onIdle(), elsewhere.onIdle()]);
    expect(await store.repos.trainingJob.count()).toBe(1);
    expect(await store.repos.trainingRun.count()).toBe(1);
    expect(await job(jobs[0]!.id)).toMatchObject({ status: 'succeeded', attempts: 1, active_key: null });
    // Another session, or the same one once finished, is another training.
    expect((await here.enqueue(request)).id).not.toBe(jobs[0]!.id);
  });

  it('a job whose worker died on this host is taken over at once, without waiting for its lease', async () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    const deadWorker = `${hostname()}:${dead.stdout.toString()}:1`;
    const { identifiers } = await store.repos.trainingJob.insert({
      symbol: 'SPX', training_type: 'fast', trigger_type: 'manual', session: null, status: 'running', attempts: 1, active_key: 'SPX|fast|manual',
      worker: deadWorker, lease_expires_at: new Date(Date.now() + 3_600_000), started_at: new Date(),
    });
    const id = identifiers[0]!.id as number;
    await store.repos.trainingLock.insert({ symbol: 'SPX', owner: `${deadWorker} job ${id}`, acquired_at: new Date(), expires_at: new Date(Date.now() + 3_600_000) });
    const queue = openQueue();
    const done = await queue.finished(id);
    expect(done).toMatchObject({ status: 'succeeded', attempts: 2, worker: null });
    const failures = await store.repos.trainingFailure.find();
    expect(failures.map((f) => f.error_message.split('\n')[0])).toEqual([`Error: worker ${deadWorker} died during the job (attempt 1 of 3: its process has ended)`]);
    expect(await store.repos.trainingLock.count()).toBe(0);
  });

  it('cancel: a queued job never runs; a running one is stopped and commits nothing; retry queues a failed one again', async () => {
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const queue = openQueue({ concurrency: 1, settings: { poll_ms: 100, lease_ms: 1_500 }, onEvent: (e: TrainingQueueEvent) => e.type === 'started' && started() });
    const spx = await queue.enqueue({ symbol: 'SPX', mode: 'fast', trigger: 'manual' });
    const aaa = await queue.enqueue({ symbol: 'AAA', mode: 'fast', trigger: 'manual' });
    expect(await queue.cancel(aaa.id)).toMatchObject({ status: 'failed', error: 'cancelled while queued', active_key: null });
    await running; // claimed, its training process starting
    // Asked to stop: its worker ends it, at the next lease renewal or, at the latest, when the training would commit.
    expect(await queue.cancel(spx.id)).toMatchObject({ status: 'running', error: 'cancel requested' });
    const cancelled = await queue.finished(spx.id);
    expect(cancelled).toMatchObject({ status: 'failed', worker: null, active_key: null, run_id: null, version_id: null });
    expect(cancelled.error).toBe(`cancelled while running on worker ${queue.worker}`);
    await queue.onIdle();
    expect(await store.repos.trainingRun.count()).toBe(0);
    expect(await store.repos.modelVersion.count()).toBe(0);
    expect((await job(aaa.id)).started_at).toBeNull();
    await expect(queue.cancel(aaa.id)).rejects.toThrow(`training job ${aaa.id} has failed already: nothing to cancel`);

    expect(await queue.retry(aaa.id)).toMatchObject({ status: 'queued', attempts: 0, active_key: 'AAA|fast|manual', error: 'cancelled while queued' });
    expect(await queue.finished(aaa.id)).toMatchObject({ status: 'succeeded', attempts: 1, error: null });
    await expect(queue.retry(aaa.id)).rejects.toThrow(`training job ${aaa.id} is succeeded: only a failed job can be retried`);
    // Not while the same training is active again.
    const again = await queue.enqueue({ symbol: 'SPX', mode: 'fast', trigger: 'manual' });
    await expect(queue.retry(spx.id)).rejects.toThrow(new RegExp(`^training job ${spx.id} is not retried: the same training is already (queued|running) as job ${again.id}$`));
  });

  it('a failing job ends failed with the error and a training-failure row, and the queue goes on', async () => {
    const events: TrainingQueueEvent[] = [];
    const queue = openQueue({ concurrency: 1 }, events);
    const tiny = await queue.enqueue({ symbol: 'TINY', mode: 'fast', trigger: 'weekly' });
    const spx = await queue.enqueue({ symbol: 'SPX', mode: 'fast', trigger: 'manual' });
    await queue.onIdle();

    const failed = await job(tiny.id);
    expect(failed).toMatchObject({ status: 'failed', run_id: null, version_id: null, error: 'too few samples (0) for a holdout of 20 with gap 5' });
    const failures = await store.repos.trainingFailure.find();
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ symbol: 'TINY', training_type: 'fast', trigger_type: 'weekly' });
    expect(failures[0]!.error_message).toContain(failed.error);
    expect(events.find((e) => e.type === 'failed')).toEqual({ type: 'failed', job: failed, error: failed.error });
    expect((await job(spx.id)).status).toBe('succeeded');
    expect(await new TrainingLock(store).holder('TINY')).toBeNull();
  });

  it('a worker that dies without reporting leaves its job failed, a training-failure row and the lock released', async () => {
    let killed: Promise<void> | undefined;
    const queue = openQueue({
      onEvent: (e) => {
        if (e.type === 'started') killed = killTrainingProcess();
      },
    });
    const queued = await queue.enqueue({ symbol: 'SPX', mode: 'fast', trigger: 'manual' });
    await queue.onIdle();
    await killed;

    const error = 'the training worker exited (SIGKILL) before reporting an outcome';
    expect(await job(queued.id)).toMatchObject({ status: 'failed', error, run_id: null });
    const failures = await store.repos.trainingFailure.find();
    expect(failures.map((f) => f.error_message.split('\n')[0])).toEqual([`WorkerExitError: ${error}`]);
    expect(await new TrainingLock(store).holder('SPX')).toBeNull();
  });

  it('a job whose lock expired and was taken over is stopped: its worker is killed and the job fails', async () => {
    const thief = await anotherProcess();
    let stolen: Promise<unknown> | undefined;
    const queue = openQueue({
      settings: { poll_ms: 100, lease_ms: 600 }, // renewed every 200 ms
      onEvent: (e) => {
        if (e.type === 'started') stolen = thief.repos.trainingLock.update({ symbol: 'SPX' }, { owner: 'thief', expires_at: new Date(Date.now() + 60_000) });
      },
    });
    const queued = await queue.enqueue({ symbol: 'SPX', mode: 'fast', trigger: 'manual' });
    await queue.onIdle();
    await stolen;

    const error = `job ${queued.id} lost its claim on SPX (its lease ran out and another worker took the job)`;
    expect(await job(queued.id)).toMatchObject({ status: 'failed', error, run_id: null });
    const failures = await store.repos.trainingFailure.find();
    expect(failures).toHaveLength(1);
    expect(failures[0]!.error_message).toContain(`WorkerExitError: ${error}`);
    expect(await store.repos.trainingRun.count()).toBe(0);
    expect((await new TrainingLock(store).holder('SPX'))?.owner).toBe('thief'); // the new holder's lock is not ours to release
  });

  it('close() finishes the running job, leaves the waiting one queued for the next worker, and leaves no child process, timer or listener', async () => {
    const foreign = new TrainingLock(await anotherProcess());
    await foreign.acquire('AAA', 'other-host:1:job 1', 60_000);
    const listeners = () => process.eventNames().map((name) => `${String(name)} ×${process.listenerCount(name)}`);
    const listenersBefore = listeners();
    const resources = watchQueueResources();
    try {
      const events: TrainingQueueEvent[] = [];
      let started!: () => void;
      const spxStarted = new Promise<void>((resolve) => (started = resolve));
      const queue = openQueue({
        onEvent: (e) => {
          events.push(e);
          if (e.type === 'started') started();
        },
      });
      const spx = await queue.enqueue({ symbol: 'SPX', mode: 'fast', trigger: 'manual' });
      const aaa = await queue.enqueue({ symbol: 'AAA', mode: 'fast', trigger: 'manual' });
      await spxStarted;
      expect(resources.live()).toContain('PROCESSWRAP');

      await queue.close();
      expect(await job(spx.id)).toMatchObject({ status: 'succeeded' });
      expect(await job(aaa.id)).toMatchObject({ status: 'queued', error: null, started_at: null, worker: null, active_key: 'AAA|fast|manual' });
      expect(events.filter((e) => e.job.id === aaa.id)).toEqual([]);
      await queue.onIdle();
      await expect(queue.enqueue({ symbol: 'BBB', mode: 'fast', trigger: 'manual' })).rejects.toThrow('the training queue is closed');

      await new Promise((resolve) => setImmediate(resolve)); // async hooks report destroyed resources in a batch
      expect(resources.live()).toEqual([]);
      expect(process.getActiveResourcesInfo()).not.toContain('ProcessWrap');
      expect(listeners()).toEqual(listenersBefore);
      expect((await foreign.holder('AAA'))?.owner).toBe('other-host:1:job 1');
    } finally {
      resources.stop();
    }
  });
});

describe('training queue on sqlite::memory:', () => {
  it('trains inline, since no child process can open the database', async () => {
    const store = await Store.open({ url: 'sqlite::memory:' });
    try {
      await new BarStore(store).ingest((await spxBars()).slice(-SESSIONS));
      const options = { store, databaseUrl: 'sqlite::memory:', config };
      expect(() => new DatabaseTrainingQueue({ ...options, runner: 'child-process' })).toThrow(
        'a sqlite::memory: database cannot be opened by a child process: use the inline runner',
      );
      const events: TrainingQueueEvent[] = [];
      const queue = new DatabaseTrainingQueue({ ...options, onEvent: (e: TrainingQueueEvent) => events.push(e) });
      queue.startWorking();
      expect(queue.runnerKind).toBe('inline');
      const queued = await queue.enqueue({ symbol: 'SPX', mode: 'fast', trigger: 'manual' });
      expect(queued.status).toBe('queued');
      await queue.onIdle();
      await queue.close();
      const run = await store.repos.trainingRun.findOneByOrFail({ symbol: 'SPX' });
      expect(await store.repos.trainingJob.findOneByOrFail({ id: queued.id })).toMatchObject({ status: 'succeeded', run_id: run.id, version_id: run.version_id });
      expect(events.map((e) => e.type)).toEqual(['started', 'progress', 'progress', 'progress', 'progress', 'progress', 'completed']);
    } finally {
      await store.close();
    }
  });
});
