/**
 * Fan-out of one full training's cross-validation: while a queued training fits its fold tasks in its worker's
 * child process, a second worker (another connection to the database) fits the ones it claims; the training's
 * scores, chosen combination and holdout equal those of the same training run serially, unit after unit, in one
 * process. For
 * the embedded engine on a SQLite file and on MariaDB/MySQL when configured, and for grid and halving search.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BarStore, resolveConfig, Store, type DailyBar, type PluginConfigInput, type TrainingRunRow } from '../plugin/index.js';
import { initBackend } from '../plugin/model/backend.js';
import { DatabaseTrainingQueue } from '../plugin/queue/database-queue.js';
import { FoldTasks } from '../plugin/queue/fold-tasks.js';
import { trainJob } from '../plugin/queue/train-job.js';
import { sharedDatabases, useSharedDatabase } from './support/shared-databases.js';
import { spxBars } from './support/spx.js';
import { TINY_TRAINING } from './support/tiny-training.js';

const INPUT: PluginConfigInput = {
  training: { ...TINY_TRAINING, param_grid: { lr: [0.003, 0.01], hidden: [4], epochs: [2, 3] }, cv_splits_short: 3 },
  queue: { poll_ms: 100, lease_ms: 10_000 },
};
const renamed = (bars: readonly DailyBar[], symbol: string) => bars.map((bar) => ({ ...bar, symbol }));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What a run says of its search: every fold score, the chosen combination, the holdout. */
const searchOf = (run: TrainingRunRow) => {
  const metrics = run.metrics_json as { cv: unknown; halving?: unknown; best_score: number; skill: { out_of_fold: unknown } };
  return { cv: metrics.cv, halving: metrics.halving ?? null, best_score: metrics.best_score, out_of_fold: metrics.skill.out_of_fold, params: run.params_json, holdout: run.holdout_metrics_json };
};

/** `actual` equals `expected` in shape, strings and booleans, and every number within 1e-6 relative (1e-12 absolute). */
function expectClose(actual: unknown, expected: unknown, path = '$'): void {
  if (typeof expected === 'number' && typeof actual === 'number') {
    if (Number.isNaN(expected)) return expect(actual, path).toBeNaN();
    return expect(Math.abs(actual - expected), path).toBeLessThanOrEqual(1e-12 + 1e-6 * Math.max(Math.abs(actual), Math.abs(expected)));
  }
  if (expected === null || typeof expected !== 'object') return expect(actual, path).toEqual(expected);
  expect(typeof actual, path).toBe('object');
  const keys = Object.keys(expected);
  expect(Object.keys(actual as object).sort(), path).toEqual([...keys].sort());
  for (const key of keys) expectClose((actual as Record<string, unknown>)[key], (expected as Record<string, unknown>)[key], `${path}.${key}`);
}

describe.each(sharedDatabases)('fan-out of a full training on a $name database', (db) => {
  const database = useSharedDatabase(db);
  const others: Store[] = [];
  const queues: DatabaseTrainingQueue[] = [];

  beforeAll(async () => {
    await initBackend();
    const bars = (await spxBars()).slice(-420);
    await new BarStore(database.store()).ingest(['SER', 'FAN', 'SERH', 'FANH'].flatMap((s) => renamed(bars, s)));
  });
  afterEach(async () => {
    for (const queue of queues.splice(0)) await queue.close();
    for (const store of others.splice(0)) await store.close();
  });

  it.each(['grid', 'halving'] as const)('%s: two workers fit the fold tasks and the training equals the serial one', async (search) => {
    const config = resolveConfig({ ...INPUT, training: { ...INPUT.training, search } });
    const [serialSymbol, fannedSymbol] = search === 'grid' ? ['SER', 'FAN'] : ['SERH', 'FANH'];
    const serial = await trainJob(database.store(), config, { symbol: serialSymbol, mode: 'full', trigger: 'manual' });

    // The training runs in a worker's child process; a second worker (another connection, another host's name)
    // fits whatever fold task it can claim, rebuilding the data from the stored bars as a worker elsewhere would.
    const queue = new DatabaseTrainingQueue({ store: database.store(), databaseUrl: database.url(), config, concurrency: 1 });
    queue.startWorking();
    queues.push(queue);
    const second = await Store.open({ url: database.url(), migrate: false });
    others.push(second);
    const helper = new FoldTasks(second, 'helper-host:1:1', { leaseMs: 10_000, pollMs: 50 });
    const job = await queue.enqueue({ symbol: fannedSymbol, mode: 'full', trigger: 'manual' });
    // Who fitted each fold task, seen while the training runs (its tasks are removed when it ends).
    const fitters = new Set<string>();
    let helped = 0;
    let tasksSeen = 0;
    while ((await second.repos.trainingJob.findOneByOrFail({ id: job.id })).status === 'queued' || (await second.repos.trainingJob.findOneByOrFail({ id: job.id })).status === 'running') {
      const task = await helper.claim();
      if (task && (await helper.run(task))) helped++;
      const done = await second.repos.foldTask.find({ where: { job_id: job.id, status: 'done' } });
      for (const t of done) fitters.add(t.worker!);
      tasksSeen = Math.max(tasksSeen, done.length);
      if (!task) await sleep(20);
    }
    const finished = await queue.finished(job.id);
    expect(finished.status).toBe('succeeded');
    const fanned = await database.store().repos.trainingRun.findOneByOrFail({ id: finished.run_id! });

    // The serial run's every fold score, its pick and its holdout. Not to the last bit: a network fitted in another
    // process differs from the same fit here by float rounding (WASM kernels), about 1e-10 relative after training.
    expectClose(searchOf(fanned), searchOf(serial.outcome.run));
    // 4 combinations × 3 folds (grid), or halving's rungs; fitted by the training's own process and a helper.
    if (search === 'grid') expect(tasksSeen).toBeGreaterThanOrEqual(10);
    expect(helped).toBeGreaterThanOrEqual(1);
    expect(fitters).toContain('helper-host:1:1');
    expect(fitters.size).toBe(2);
    expect(await database.store().repos.foldTask.countBy({ job_id: job.id })).toBe(0);
  });
});
