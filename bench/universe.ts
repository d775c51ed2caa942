/**
 * A universe of trainings through the training queue, and full mode's search, grid against halving.
 *
 * - queue: 200 symbols (the bundled S&P 500 plus seeded synthetic GARCH(1,1) symbols, bench/support/universe.ts)
 *   on its last 350 sessions, ingested once into a SQLite file that each run copies (a fresh database, bars only).
 *   Every symbol is enqueued as a fast training, toy-sized (hidden 4, 1 epoch, no importance, no skill gate, no
 *   ARIMA: the queue's cost, not the network's), and `lstm-signals worker` processes from dist/ (concurrency 1
 *   each) run them: BullMQ on Redis (a fresh queue.name per run) with 1 worker, then 2; then the embedded
 *   (database) queue with 2. Figures: wall time from the first enqueue to the last job finished, jobs/s, the
 *   speed-up of 2 workers over 1, and the queue's overhead per job: (wall × workers − Σ job durations from the
 *   rows' started_at/finished_at) / jobs — the time a worker slot was not running a job.
 * - search: the bundled S&P 500 trained in full mode on the default param_grid, with training.search grid, then
 *   halving: wall time of each and the chosen combination's cross-validation score (and holdout), target halving
 *   ≥ 3× faster with a score within 0.01 of grid's. Then the same grid training through BullMQ with 1 and 2 worker
 *   processes (fan-out of its fold tasks): wall time, speed-up (target ≥ 1.8×), and whether it chose what the
 *   serial run chose.
 *
 *   npx tsx bench/universe.ts            # 200 symbols; search on all of SPX (20 years, default epochs: ~30+ min per search on one core)
 *   npx tsx bench/universe.ts --quick    # 24 symbols × 300 sessions; search on SPX's last 3 years at a tenth of the epochs
 *
 * Redis: LSTM_REDIS_URL or redis://127.0.0.1:6379; when it does not answer, the BullMQ runs are skipped (one line
 * on stderr says why). Workers, Redis keys and temporary files are removed whatever fails.
 * Logs go to stderr; the last stdout line is the BenchOutput JSON (bench/result.ts).
 */
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CsvBarSource } from '../adapters/bars/csv.js';
import { withPlugin } from '../adapters/standalone/plugin-session.js';
import {
  BarStore,
  currentBackend,
  openTrainingQueue,
  parameterGrid,
  resolveConfig,
  Store,
  Trainer,
  type BarsIngestedEvent,
  type PluginConfigInput,
  type TrainingProgress,
  type TrainingSettings,
} from '../plugin/index.js';
import { build } from '../scripts/build.js';
import { printBench, type BenchRow } from './result.js';
import { fixed, round } from './support/numbers.js';
import { log, timed } from './support/process.js';
import { bundledSpx, writeUniverse, type Universe } from './support/universe.js';
import { deleteQueueKeys, redisProblem, startWorker, stopAll, stopWorkersOnSignal } from './support/workers.js';

const QUICK = process.argv.includes('--quick');
const option = (name: string) => process.argv.find((a, i) => process.argv[i - 1] === name);
/** `--only queue` or `--only search` (run directly): one part alone. */
const ONLY = option('--only');
const SIZE = { ...(QUICK ? { symbols: 24, sessions: 300 } : { symbols: 200, sessions: 350 }), ...(option('--symbols') && { symbols: Number(option('--symbols')) }) };
/** Search on SPX: quick takes its last 3 years and divides every epoch count by 10. */
const SEARCH = QUICK ? { sessions: 756, epochDivisor: 10 } : { sessions: Infinity, epochDivisor: 1 };
const REDIS_URL = process.env.LSTM_REDIS_URL || 'redis://127.0.0.1:6379';
// Each run names its engine: the environment must not turn this process's embedded queue into BullMQ.
delete process.env.LSTM_REDIS_URL;
/** The BullMQ queue names used so far: their keys are deleted after each run, and again on the way out. */
const queueNames = new Set<string>();
const SPEED_TARGET = 3;
/**
 * The fan-out runs fit at half the default epochs in --quick (a fold fit of a few seconds): a tenth, as in the
 * search part, makes a fit shorter than a fold process's start, which is not what fan-out is for.
 */
const FAN_OUT_EPOCH_DIVISOR = QUICK ? 2 : 1;
const SCORE_TOLERANCE = 0.01;

/** Toy trainings (test/support/tiny-training.ts's sizes): what is measured is the queue, not the network. */
const QUEUE_TRAINING: PluginConfigInput['training'] = {
  fast_params: { lr: 0.003, hidden: 4, epochs: 1 },
  batch_size: 128,
  holdout_sessions: 20,
  importance_repeats: 0,
  skill_gate: false,
  arima_baseline: false,
};

interface QueueRun {
  label: string;
  engine: 'bullmq' | 'database';
  workers: number;
  jobs: number;
  wall: number;
  /** Σ (finished_at − started_at) of the job rows, in seconds. */
  jobSeconds: number;
  /** Σ the training runs' own duration_seconds (the trainer's work, without the worker process around it). */
  trainerSeconds: number;
}

/** Ingests the universe into `file` (SQLite), refusing any bar the validation would drop. */
async function ingest(universe: Universe, file: string): Promise<number> {
  const ingested: BarsIngestedEvent[] = [];
  await withPlugin(
    {
      source: new CsvBarSource(universe.dir, { strict: true }),
      db: `sqlite:${file}`,
      logLevel: 'warn',
      listen: (host) => host.bus.on('lstm:bars:ingested', (event: BarsIngestedEvent) => ingested.push(event)),
    },
    async () => {},
  );
  const refused = ingested.find((e) => e.error || e.rejected || e.dropped > 0);
  if (refused) throw new Error(`${refused.symbol}: ingestion refused bars: ${refused.error ?? JSON.stringify(refused.problems.slice(0, 3))}`);
  return ingested.reduce((n, e) => n + e.inserted, 0);
}

/** One run: a copy of the ingested database, `workers` worker processes, every symbol enqueued, waited for, measured. */
async function queueRun(work: string, template: string, universe: Universe, engine: QueueRun['engine'], workers: number): Promise<QueueRun> {
  const label = `${engine === 'bullmq' ? 'BullMQ' : 'embedded'} queue, ${workers} worker(s)`;
  const name = `lstm-bench-universe-${process.pid}-${engine}-${workers}`;
  const file = path.join(work, `${name}.sqlite`);
  await copyFile(template, file);
  const db = `sqlite:${file}`;
  const configFile = path.join(work, `${name}.json`);
  const input: PluginConfigInput = { training: QUEUE_TRAINING, queue: { name, url: engine === 'bullmq' ? REDIS_URL : null } };
  await writeFile(configFile, JSON.stringify(input));
  const config = resolveConfig({ ...input, db_url: db });
  const url = engine === 'bullmq' ? REDIS_URL : undefined;
  if (url) queueNames.add(name);
  let store: Store | undefined;
  let queue: Awaited<ReturnType<typeof openTrainingQueue>> | undefined;
  try {
    log(`${label}: starting the workers`);
    await Promise.all(Array.from({ length: workers }, (_, i) => startWorker({ db, configFile, label: `${label}: worker ${i + 1}`, ...(url && { queueUrl: url }) })));
    store = await Store.open({ url: db, timeouts: config.db_timeouts });
    const q = (queue = await openTrainingQueue({ store, databaseUrl: db, config, ...(url && { settings: { url } }) }));
    log(`${label}: enqueuing ${universe.symbols.length} fast trainings`);
    const { value: finished, seconds: wall } = await timed(async () => {
      const jobs = [];
      for (const symbol of universe.symbols) jobs.push(await q.enqueue({ symbol, mode: 'fast', trigger: 'bench' }));
      return Promise.all(jobs.map((job) => q.finished(job.id)));
    });
    const failed = finished.filter((job) => job.status !== 'succeeded');
    if (failed.length > 0) throw new Error(`${label}: ${failed.length} job(s) failed, e.g. ${failed[0]!.symbol}: ${failed[0]!.error}`);
    const jobSeconds = finished.reduce((sum, job) => sum + (job.finished_at!.getTime() - job.started_at!.getTime()) / 1000, 0);
    const runs = await store.repos.trainingRun.find({ select: { duration_seconds: true } });
    const trainerSeconds = runs.reduce((sum, run) => sum + run.duration_seconds, 0);
    log(`${label}: ${finished.length} jobs in ${fixed(wall)} s`);
    return { label, engine, workers, jobs: finished.length, wall, jobSeconds, trainerSeconds };
  } finally {
    await stopAll();
    await queue?.close();
    await store?.close();
    await deleteKeys();
  }
}

/** Deletes the keys of every BullMQ queue used; a failure is logged, never hides the run's own error. */
async function deleteKeys(): Promise<void> {
  for (const name of queueNames) {
    try {
      await deleteQueueKeys(REDIS_URL, name);
      queueNames.delete(name);
    } catch (error) {
      log(`could not delete the Redis keys ${name}:*: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

function queueRows(sizes: string, runs: QueueRun[]): BenchRow[] {
  const rows: BenchRow[] = [];
  for (const r of runs) {
    const overhead = (r.wall * r.workers - r.jobSeconds) / r.jobs;
    rows.push(
      { metric: `${r.label}: wall`, value: round(r.wall, 1), unit: 's', detail: `${sizes}; ${r.jobs} fast trainings, first enqueue to last finished` },
      { metric: `${r.label}: throughput`, value: round(r.jobs / r.wall, 2), unit: 'jobs/s' },
      {
        metric: `${r.label}: queue overhead per job`,
        value: round(overhead, 2),
        unit: 's',
        detail:
          `(wall × workers − Σ job time ${fixed(r.jobSeconds)} s) / jobs; a job (started_at..finished_at) took ${fixed(r.jobSeconds / r.jobs, 2)} s on average, ` +
          `of which the trainer ${fixed(r.trainerSeconds / r.jobs, 2)} s (the rest: the training process's start and the commit)`,
      },
    );
  }
  const one = runs.find((r) => r.engine === 'bullmq' && r.workers === 1);
  const two = runs.find((r) => r.engine === 'bullmq' && r.workers === 2);
  if (one && two) {
    rows.push({ metric: 'BullMQ queue: speed-up of 2 workers over 1', value: round(one.wall / two.wall, 2), unit: '×', detail: `${fixed(one.wall)} s / ${fixed(two.wall)} s on ${sizes}` });
  }
  return rows;
}

interface SearchRun {
  search: TrainingSettings['search'];
  seconds: number;
  /** From the training's start to the end of its last cross-validation epoch: the search without the refit and holdout. */
  searchSeconds: number;
  score: number;
  params: string;
  holdoutF1: number;
  holdoutAccuracy: number;
}

/** One full-mode training of SPX with `search`, in an in-memory database of its own (no incumbent). */
async function searchRun(settings: TrainingSettings, featureNames: string[], search: TrainingSettings['search']): Promise<SearchRun> {
  const bars = (await bundledSpx()).slice(-SEARCH.sessions);
  const store = await Store.open({ url: 'sqlite::memory:' });
  try {
    log(`search ${search}: SPX ${bars[0]!.date}..${bars.at(-1)!.date}, full mode`);
    const start = performance.now();
    let lastCv = start;
    const onProgress = (p: TrainingProgress) => {
      if (p.stage === 'cv') lastCv = performance.now();
    };
    const { value: outcome, seconds } = await timed(() => new Trainer(store).train({ symbol: 'SPX', bars, mode: 'full', trigger: 'bench', featureNames, settings: { ...settings, search }, onProgress }));
    const metrics = outcome.run.metrics_json as { best_score: number };
    const { lr, hidden, epochs } = outcome.run.params_json as { lr: number; hidden: number; epochs: number };
    log(`search ${search}: ${fixed(seconds)} s, score ${metrics.best_score.toFixed(4)}`);
    return { search, seconds, searchSeconds: (lastCv - start) / 1000, score: metrics.best_score, params: `lr ${lr}, hidden ${hidden}, epochs ${epochs}`, holdoutF1: outcome.holdout!.f1, holdoutAccuracy: outcome.holdout!.accuracy };
  } finally {
    await store.close();
  }
}

async function searchRows(work: string): Promise<BenchRow[]> {
  const { settings, featureNames } = searchSettings();
  const grid = settings.param_grid;
  const [g, h] = [await searchRun(settings, featureNames, 'grid'), await searchRun(settings, featureNames, 'halving')];
  const combinations = parameterGrid(settings).length;
  const what = `SPX, last ${Number.isFinite(SEARCH.sessions) ? `${SEARCH.sessions} sessions` : 'all sessions'}, ${combinations} combinations (lr ${grid.lr.join('/')}, hidden ${grid.hidden.join('/')}, epochs ${settings.param_grid.epochs.join('/')})`;
  const run = (r: SearchRun) => `${fixed(r.seconds)} s (the search ${fixed(r.searchSeconds)} s, then refit and holdout), chose ${r.params}, cv score ${r.score.toFixed(4)}, holdout F1 ${r.holdoutF1.toFixed(3)}, accuracy ${r.holdoutAccuracy.toFixed(3)}`;
  const fanOut = await fanOutRows(work);
  return [
    { metric: 'full training, search grid: wall', value: round(g.seconds, 1), unit: 's', detail: `${what}; ${run(g)}` },
    { metric: 'full training, search halving: wall', value: round(h.seconds, 1), unit: 's', detail: `${what}; ${run(h)}` },
    {
      metric: 'halving: speed-up over grid',
      value: round(g.seconds / h.seconds, 2),
      unit: '×',
      target: `≥ ${SPEED_TARGET}×`,
      met: g.seconds / h.seconds >= SPEED_TARGET,
      detail: `grid wall / halving wall of the whole training; the search alone: ${fixed(g.searchSeconds)} s / ${fixed(h.searchSeconds)} s = ${fixed(g.searchSeconds / h.searchSeconds, 2)}×`,
    },
    {
      metric: 'halving: chosen cv score − grid’s',
      value: round(h.score - g.score, 4),
      unit: 'score',
      target: `within ${SCORE_TOLERANCE}`,
      met: Math.abs(h.score - g.score) <= SCORE_TOLERANCE,
      detail: `cv score (training's best_score) of the chosen combination: halving ${h.score.toFixed(4)}, grid ${g.score.toFixed(4)}; holdout F1 ${h.holdoutF1.toFixed(3)} vs ${g.holdoutF1.toFixed(3)}`,
    },
    ...fanOut,
  ];
}

/** The default grid with its epochs divided by `epochDivisor`. */
function searchSettings(epochDivisor = SEARCH.epochDivisor): { settings: TrainingSettings; featureNames: string[] } {
  const { training, feature_names } = resolveConfig({ training: { importance_repeats: 0 } });
  const grid = training.param_grid;
  return { settings: { ...training, param_grid: { ...grid, epochs: grid.epochs.map((e) => Math.max(1, Math.round(e / epochDivisor))) } }, featureNames: feature_names };
}

/**
 * SPX's full training (grid) through BullMQ with `workers` worker processes: the training's own worker fits the
 * fold tasks nobody else took, the others help (queue.fan_out). Wall time from enqueue to the job's end, and what
 * it chose, to compare with the serial run.
 */
async function fanOutRun(work: string, workers: number): Promise<{ seconds: number; score: number; params: string }> {
  const name = `lstm-bench-fanout-${process.pid}-${workers}`;
  const file = path.join(work, `${name}.sqlite`);
  const db = `sqlite:${file}`;
  const { settings } = searchSettings(FAN_OUT_EPOCH_DIVISOR);
  const input: PluginConfigInput = { training: { ...settings, search: 'grid' }, triggers: { concurrency: 1 }, queue: { name, url: REDIS_URL } };
  const configFile = path.join(work, `${name}.json`);
  await writeFile(configFile, JSON.stringify(input));
  queueNames.add(name);
  const store = await Store.open({ url: db });
  let queue: Awaited<ReturnType<typeof openTrainingQueue>> | undefined;
  try {
    await new BarStore(store).ingest((await bundledSpx()).slice(-SEARCH.sessions));
    await Promise.all(Array.from({ length: workers }, (_, i) => startWorker({ db, configFile, label: `fan-out, ${workers} worker(s): worker ${i + 1}`, queueUrl: REDIS_URL })));
    const q = (queue = await openTrainingQueue({ store, databaseUrl: db, config: resolveConfig({ ...input, db_url: db }), settings: { url: REDIS_URL } }));
    log(`fan-out: SPX full training through BullMQ with ${workers} worker(s)`);
    const { value: job, seconds } = await timed(async () => q.finished((await q.enqueue({ symbol: 'SPX', mode: 'full', trigger: 'bench' })).id));
    if (job.status !== 'succeeded') throw new Error(`fan-out with ${workers} worker(s): the training failed: ${job.error}`);
    const run = await store.repos.trainingRun.findOneByOrFail({ id: job.run_id! });
    const { lr, hidden, epochs } = run.params_json as { lr: number; hidden: number; epochs: number };
    log(`fan-out, ${workers} worker(s): ${fixed(seconds)} s`);
    return { seconds, score: (run.metrics_json as { best_score: number }).best_score, params: `lr ${lr}, hidden ${hidden}, epochs ${epochs}` };
  } finally {
    await stopAll();
    await queue?.close();
    await store.close();
    await deleteKeys();
  }
}

async function fanOutRows(work: string): Promise<BenchRow[]> {
  const problem = await redisProblem(REDIS_URL);
  if (problem) {
    log(`fan-out: Redis at ${REDIS_URL} does not answer (${problem}): skipping`);
    return [];
  }
  // One worker fits every unit itself, in the serial order: the reference the two-worker run must match.
  const [one, two] = [await fanOutRun(work, 1), await fanOutRun(work, 2)];
  const same = two.params === one.params && Math.abs(two.score - one.score) <= 1e-6 * Math.abs(one.score);
  const epochs = searchSettings(FAN_OUT_EPOCH_DIVISOR).settings.param_grid.epochs.join('/');
  return [
    { metric: 'full training through BullMQ, 1 worker: wall', value: round(one.seconds, 1), unit: 's', detail: `SPX as in the search part at epochs ${epochs}, grid; chose ${one.params}, cv score ${one.score.toFixed(6)}` },
    {
      metric: 'full training through BullMQ, 2 workers: wall',
      value: round(two.seconds, 1),
      unit: 's',
      detail: `fold tasks fitted by both workers (queue.fan_out); chose ${two.params}, cv score ${two.score.toFixed(6)}: ${same ? 'the 1-worker run’s' : 'NOT the 1-worker run’s'}`,
    },
    { metric: 'fan-out: speed-up of 2 workers over 1', value: round(one.seconds / two.seconds, 2), unit: '×', target: '≥ 1.8×', met: one.seconds / two.seconds >= 1.8, detail: `${fixed(one.seconds)} s / ${fixed(two.seconds)} s` },
  ];
}

async function queueBench(work: string): Promise<BenchRow[]> {
  const universe = await writeUniverse(path.join(work, 'bars'), SIZE);
  const sizes = `${universe.symbols.length} symbols (SPX + ${universe.symbols.length - 1} synthetic GARCH) × ${universe.sessions} sessions`;
  const template = path.join(work, 'template.sqlite');
  const { value: bars, seconds } = await timed(() => ingest(universe, template));
  log(`universe${QUICK ? ' --quick' : ''}: ${sizes}, ${bars} bars ingested in ${fixed(seconds)} s`);

  const runs: QueueRun[] = [];
  const problem = await redisProblem(REDIS_URL);
  if (problem) log(`universe: Redis at ${REDIS_URL} does not answer (${problem}): skipping the BullMQ runs`);
  else for (const workers of [1, 2]) runs.push(await queueRun(work, template, universe, 'bullmq', workers));
  runs.push(await queueRun(work, template, universe, 'database', 2));
  return queueRows(sizes, runs);
}

async function main(): Promise<void> {
  const work = await mkdtemp(path.join(tmpdir(), 'lstm-bench-universe-'));
  const cleanUp = async () => {
    await deleteKeys();
    await rm(work, { recursive: true, force: true });
  };
  stopWorkersOnSignal(cleanUp);
  try {
    if (build({ ifStale: true })) log('built dist/');
    const rows: BenchRow[] = [];
    if (ONLY !== 'search') rows.push(...(await queueBench(work)));
    if (ONLY !== 'queue') rows.push(...(await searchRows(work)));
    printBench({ bench: 'universe', backend: currentBackend()?.name ?? 'unknown', rows });
  } finally {
    await stopAll();
    await cleanUp();
  }
}

await main();
