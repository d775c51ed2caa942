/**
 * The training queue across processes: three `lstm-signals worker` processes share one database. One is killed
 * with SIGKILL in the middle of a job: another finishes the job, exactly one version is deployed, no job stays
 * `running` and no lock outlives its owner. One is stopped with SIGTERM in the middle of a job: it exits, the job
 * is queued again and another worker finishes it. Two weekly runs at once train each symbol once. With the embedded
 * engine on a SQLite file and a MariaDB/MySQL scratch database; with BullMQ on Redis and MariaDB/MySQL (a SQLite file
 * where no MySQL is configured).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BarStore, openTrainingQueue, resolveConfig, type PluginConfigInput, type Store, type TrainingJobRow, type WorkingQueue } from '../../plugin/index.js';
import { BIN, runCli } from '../support/cli.js';
import { redisUrl, deleteQueueKeys, uniqueQueueName } from '../support/redis.js';
import { sharedDatabases, useSharedDatabase } from '../support/shared-databases.js';
import { spxBars, SPX_CSV } from '../support/spx.js';
import { TINY_TRAINING } from '../support/tiny-training.js';

const CONFIG = { training: TINY_TRAINING, triggers: { concurrency: 1 }, queue: { poll_ms: 200, lease_ms: 5_000 } };

/** Each engine with the databases it runs on here; the BullMQ one on its own queue name. */
const engines = [
  ...sharedDatabases.map((db) => ({ engine: 'embedded', db, config: (): PluginConfigInput => CONFIG })),
  ...(redisUrl
    ? [sharedDatabases.at(-1)!].map((db) => {
        const name = uniqueQueueName();
        return { engine: 'BullMQ', db, config: (): PluginConfigInput => ({ ...CONFIG, queue: { ...CONFIG.queue, url: redisUrl!, name } }) };
      })
    : []),
];
const cleanUp = async (config: PluginConfigInput) => void (config.queue?.name && (await deleteQueueKeys(config.queue.name)));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `read` until `done` holds of its value (or fails after `ms`). */
async function waitFor<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, ms = 120_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await sleep(100);
  }
}

describe.each(engines)('kill -9 and SIGTERM: three worker processes share the $engine queue of a $db.name database', ({ db, config }) => {
  const database = useSharedDatabase(db);
  const dir = mkdtempSync(path.join(tmpdir(), 'lstm-workers-'));
  const configFile = path.join(dir, 'config.json');
  const workers: ChildProcess[] = [];
  let store: Store;
  let queue: WorkingQueue;

  const startWorker = () => {
    const worker = spawn(process.execPath, [BIN, 'worker', '--db', database.url(), '--config', configFile], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LSTM_DB_URL: '' } });
    let output = '';
    worker.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    worker.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    Object.defineProperty(worker, 'output', { get: () => output });
    workers.push(worker);
    return worker;
  };
  const exited = (worker: ChildProcess) => new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => (worker.exitCode !== null || worker.signalCode !== null ? resolve({ code: worker.exitCode, signal: worker.signalCode }) : worker.once('exit', (code, signal) => resolve({ code, signal }))));
  const workerOf = (job: TrainingJobRow) => workers.find((w) => job.worker?.split(':')[1] === String(w.pid));
  const job = (id: number) => store.repos.trainingJob.findOneByOrFail({ id });

  beforeAll(async () => {
    writeFileSync(configFile, JSON.stringify(config()));
    store = database.store();
    const bars = (await spxBars()).slice(-900);
    await new BarStore(store).ingest(['KQ1', 'KQ2'].flatMap((symbol) => bars.map((b) => ({ ...b, symbol }))));
    // The test only queues: the workers run the jobs.
    queue = await openTrainingQueue({ store, databaseUrl: database.url(), config: resolveConfig(config()) });
    for (let i = 0; i < 3; i++) startWorker();
  });
  afterAll(async () => {
    await queue.close();
    for (const worker of workers) if (worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
    await cleanUp(config());
  });

  it('a worker killed with SIGKILL mid-job: another finishes the job, one version is deployed, nothing stays running or locked', async () => {
    const queued = await queue.enqueue({ symbol: 'KQ1', mode: 'fast', trigger: 'manual' });
    const running = await waitFor('the job to start', () => job(queued.id), (j) => j.status === 'running' && j.progress_json !== null);
    const victim = workerOf(running)!;
    expect(victim).toBeDefined();
    victim.kill('SIGKILL');
    expect(await exited(victim)).toEqual({ code: null, signal: 'SIGKILL' });

    const done = await queue.finished(queued.id);
    expect(done).toMatchObject({ status: 'succeeded', attempts: 2, worker: null, lease_expires_at: null, active_key: null });
    expect(done.error).toBeNull();
    await sleep(1_000); // a training orphaned by the dead worker would deploy about now
    const runs = await store.repos.trainingRun.find({ where: { symbol: 'KQ1' } });
    expect(runs.map((r) => r.version_id)).toEqual([done.version_id]);
    expect((await store.repos.currentVersion.findOneBy({ symbol: 'KQ1' }))?.version_id).toBe(done.version_id);
    // One row says the worker died; any other is the same death seen by the dead worker's training process (it
    // stopped itself) or by the next training (which removed the version it had left unfinished).
    const failures = (await store.repos.trainingFailure.find({ where: { symbol: 'KQ1' } })).map((f) => f.error_message.split('\n')[0]!);
    expect(failures.filter((f) => f.includes('died during the job'))).toEqual([expect.stringMatching(new RegExp(`^Error: worker .*:${victim.pid}:\\d+ died during the job \\(attempt 1 of 3: its process has ended\\)$`))]);
    for (const other of failures.filter((f) => !f.includes('died during the job'))) expect(other).toMatch(/the queue process that ran this training is gone|never got its holdout decision/);
    expect(await store.repos.trainingJob.countBy({ status: 'running' })).toBe(0);
    // The worker releases the symbol's lock just after recording the job's end.
    await waitFor('the lock to be released', () => store.repos.trainingLock.count(), (n) => n === 0, 10_000);
  });

  it('a worker stopped with SIGTERM mid-job exits at once, gives the job back, and another worker finishes it', async () => {
    const queued = await queue.enqueue({ symbol: 'KQ2', mode: 'fast', trigger: 'manual' });
    const running = await waitFor('the job to start', () => job(queued.id), (j) => j.status === 'running' && j.progress_json !== null);
    const stopped = workerOf(running)!;
    stopped.kill('SIGTERM');
    expect(await exited(stopped)).toEqual({ code: 0, signal: null });
    expect((stopped as ChildProcess & { output: string }).output).toContain('giving the running jobs back');

    const done = await queue.finished(queued.id);
    expect(done).toMatchObject({ status: 'succeeded', attempts: 2, worker: null });
    expect(done.worker).toBeNull();
    expect(await store.repos.trainingRun.countBy({ symbol: 'KQ2' })).toBe(1);
    // Given back, not failed: no row says the job failed (a version the stopped training left unfinished is removed, and said).
    for (const failure of await store.repos.trainingFailure.find({ where: { symbol: 'KQ2' } })) expect(failure.error_message).toMatch(/never got its holdout decision/);
    expect(await store.repos.trainingJob.countBy({ status: 'running' })).toBe(0);
    // The worker releases the symbol's lock just after recording the job's end.
    await waitFor('the lock to be released', () => store.repos.trainingLock.count(), (n) => n === 0, 10_000);
  });
});

describe.each(engines)('concurrent start: two weekly runs at once on the $engine queue of a $db.name database', ({ db, config }) => {
  const database = useSharedDatabase(db);
  afterAll(() => cleanUp(config()));

  it('train each symbol once', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lstm-weekly-twice-'));
    const [header, ...rows] = readFileSync(SPX_CSV, 'utf8').trim().split('\n');
    for (const symbol of ['WA', 'WB']) writeFileSync(path.join(dir, `${symbol}.csv`), [header, ...rows.slice(-900)].join('\n'));
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...config(), weekly: { training_mode: 'fast' } }));
    const args = (out: string) => ['weekly', '--data', dir, '--db', database.url(), '--config', path.join(dir, 'config.json'), '--output', path.join(dir, out), '--json'];
    expect((await runCli(['ingest', '--data', dir, '--db', database.url()], { cwd: dir })).code).toBe(0);

    const [first, second] = await Promise.all([runCli(args('one'), { cwd: dir }), runCli(args('two'), { cwd: dir })]);
    expect([first.code, second.code], first.stderr + second.stderr).toEqual([0, 0]);
    const runs = await database.store().repos.trainingRun.find({ order: { symbol: 'ASC' } });
    expect(runs.map((r) => r.symbol)).toEqual(['WA', 'WB']);
    const jobs = await database.store().repos.trainingJob.find({ order: { symbol: 'ASC' } });
    expect(jobs.map((j) => `${j.symbol} ${j.status}`)).toEqual(['WA succeeded', 'WB succeeded']);
    // Both runs report the one training of each symbol.
    for (const run of [first, second]) expect((JSON.parse(run.stdout) as { retrained: Array<{ version_id: string }> }).retrained.map((r) => r.version_id)).toEqual(runs.map((r) => r.version_id));
  }, 240_000);
});

describe.each(sharedDatabases)('kill -9 of a fold helper: a fanned-out full training on a $name database', (db) => {
  const database = useSharedDatabase(db);

  it('the killed process’s fold task is fitted again and the training deploys once', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lstm-fold-helper-'));
    const configFile = path.join(dir, 'config.json');
    const input = { ...CONFIG, training: { ...TINY_TRAINING, param_grid: { lr: [0.003, 0.01], hidden: [16, 32], epochs: [12] } } };
    writeFileSync(configFile, JSON.stringify(input));
    const store = database.store();
    await new BarStore(store).ingest((await spxBars()).slice(-600).map((b) => ({ ...b, symbol: 'KF' })));
    const workers = [0, 1].map(() => spawn(process.execPath, [BIN, 'worker', '--db', database.url(), '--config', configFile], { cwd: dir, stdio: 'ignore', env: { ...process.env, LSTM_DB_URL: '' } }));
    const queue = await openTrainingQueue({ store, databaseUrl: database.url(), config: resolveConfig(input) });
    try {
      const queued = await queue.enqueue({ symbol: 'KF', mode: 'full', trigger: 'manual' });
      const running = await waitFor('the job to start', () => store.repos.trainingJob.findOneByOrFail({ id: queued.id }), (j) => j.status === 'running');
      // The job's worker trains it; the other worker helps with its fold tasks, in a process of its own. Kill that
      // process mid-fold.
      const helper = workers.find((w) => running.worker?.split(':')[1] !== String(w.pid))!;
      const parentOf = (pid: string) => {
        try {
          return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1];
        } catch {
          return undefined; // ended meanwhile
        }
      };
      const helped = await waitFor(
        'the helper to take a fold task',
        async () => (await store.repos.foldTask.find({ where: { job_id: queued.id, status: 'running' } })).find((t) => parentOf(t.worker!.split(':')[1]!) === String(helper.pid)) ?? null,
        (t) => t !== null,
      );
      process.kill(Number(helped!.worker!.split(':')[1]), 'SIGKILL');

      const done = await queue.finished(queued.id);
      expect(done).toMatchObject({ status: 'succeeded', attempts: 1, error: null });
      expect(await store.repos.trainingRun.countBy({ symbol: 'KF' })).toBe(1);
      expect((await store.repos.currentVersion.findOneBy({ symbol: 'KF' }))?.version_id).toBe(done.version_id);
      // 4 combinations × 3 folds, each scored once, the killed helper's among them.
      const run = await store.repos.trainingRun.findOneByOrFail({ symbol: 'KF' });
      const cv = (run.metrics_json as { cv: Array<{ folds: unknown[] }> }).cv;
      expect(cv.map((c) => c.folds.length)).toEqual([3, 3, 3, 3]);
      expect(helped!.job_id).toBe(queued.id);
      expect(await store.repos.foldTask.countBy({ job_id: queued.id })).toBe(0);
      expect(await store.repos.trainingJob.countBy({ status: 'running' })).toBe(0);
    } finally {
      await queue.close();
      for (const worker of workers) if (worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
    }
  }, 240_000);
});
