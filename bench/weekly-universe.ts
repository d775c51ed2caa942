/**
 * The weekly run over a 50-symbol universe: the bundled S&P 500 plus 49 seeded GARCH(1,1) symbols on the same
 * 5,105 sessions (2000–2020), in a fresh SQLite file in a temporary folder.
 *
 * - set-up: the first weekly run ingests the CSV folder and trains every symbol (no model yet) in fast mode,
 *   made small (see BENCH_TRAINING) so it takes about a minute;
 * - run 1, models cached: the weekly run again, in a process of its own, so it only predicts (targets < 10 s and
 *   peak RSS < 1 GiB); then the same through the `weekly --data DIR` path, which re-ingests the unchanged folder;
 * - run 2, incremental: every symbol fine-tuned incrementally (default 126 windows × 5 epochs, hidden 32), then
 *   the weekly run, in a process of its own.
 *
 *   npx tsx bench/weekly-universe.ts            # full size
 *   npx tsx bench/weekly-universe.ts --quick    # 5 symbols × 800 sessions: only checks that the script runs
 *
 * Logs go to stderr; the last stdout line is the BenchOutput JSON (bench/result.ts).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CsvBarSource } from '../adapters/bars/csv.js';
import { withPlugin } from '../adapters/standalone/plugin-session.js';
import { resolveConfig, type BarsIngestedEvent, type PluginConfig, type PluginConfigInput, type WeeklyRunResult } from '../plugin/index.js';
import { printBench, type BenchRow } from './result.js';
import { fixed, round } from './support/numbers.js';
import { log, runChild, timed, type ChildFigures } from './support/process.js';
import { writeUniverse, type Universe } from './support/universe.js';
import type { WeeklyChildReport } from './support/weekly-run-child.js';

const QUICK = process.argv.includes('--quick');
const SIZE = QUICK ? { symbols: 5, sessions: 800 } : { symbols: 50 };
const WALL_TARGET_SECONDS = 10;
const RSS_TARGET_MIB = 1024;

/**
 * The set-up's first trainings use the weekly run's fast mode, shrunk (1 epoch, 2 CV folds, no permutation
 * importance, no ARIMA among the holdout's baselines) so 50 symbols train in about a minute. A 1-epoch network
 * shows no skill, and this measures the cost of serving LSTM signals, so the skill gate is off (bench/skill.ts
 * measures skill). What the measured runs cost depends on the rest, left at the defaults: hidden 32, batch 32,
 * incremental 126 windows × 5 epochs.
 */
const BENCH_TRAINING: PluginConfigInput['training'] = {
  fast_params: { lr: 5e-4, hidden: 32, epochs: 1 },
  cv_splits_short: 2,
  importance_repeats: 0,
  skill_gate: false,
  arima_baseline: false,
};

type ChildResult = WeeklyChildReport & ChildFigures;

interface Setup {
  seconds: number;
  /** createPlugin + activate: open and migrate the store, load the backend, ingest the folder. */
  ingestSeconds: number;
  /** The weekly run that trained and predicted every symbol. */
  trainSeconds: number;
  bars: number;
}

/** Refuses any bar the plugin's validation would drop: the universe must be ingested whole. */
function checkIngestion(event: BarsIngestedEvent): void {
  if (event.error || event.rejected || event.dropped > 0) {
    throw new Error(`${event.symbol}: ingestion refused bars: ${event.error ?? JSON.stringify(event.problems.slice(0, 3))}`);
  }
}

function checkSetupRun(result: WeeklyRunResult, symbols: number): void {
  const deployed = result.retrained.filter((r) => r.deployed).length;
  if (result.status !== 'success' || deployed !== symbols) {
    throw new Error(`set-up: weekly run ${result.status}, ${deployed}/${symbols} models deployed: ${JSON.stringify(result.failures.slice(0, 3))}`);
  }
}

/** Ingests the universe and trains every symbol: the first weekly run on an empty database. */
async function setUp(universe: Universe, db: string, configFile: string): Promise<Setup> {
  const ingested: BarsIngestedEvent[] = [];
  let trainSeconds = 0;
  const { seconds } = await timed(() =>
    withPlugin(
      {
        source: new CsvBarSource(universe.dir, { strict: true }),
        db,
        configFile,
        logLevel: 'warn',
        listen: (host) => host.bus.on('lstm:bars:ingested', (event: BarsIngestedEvent) => ingested.push(event)),
      },
      async (plugin) => {
        const run = await timed(() => plugin.runWeeklyAnalysis({ onPrediction: ({ signal }) => log(`set-up: ${signal.symbol} trained and predicted (${signal.source})`) }));
        checkSetupRun(run.value, universe.symbols.length);
        trainSeconds = run.seconds;
      },
    ),
  );
  ingested.forEach(checkIngestion);
  return { seconds, trainSeconds, ingestSeconds: seconds - trainSeconds, bars: ingested.reduce((n, e) => n + e.inserted, 0) };
}

/** Runs one measured weekly run in its own process and checks it only predicted, with the LSTM. */
async function measure(label: string, args: string[], symbols: number): Promise<ChildResult> {
  log(`measuring the ${label}`);
  const report = await runChild<WeeklyChildReport>('weekly-run-child.ts', args);
  // A retraining or a fallback inside a measured run would measure something else.
  if (report.status !== 'success' || report.retrainedByRun > 0 || report.lstmSignals !== symbols) {
    throw new Error(`${label}: ${report.status}, ${report.retrainedByRun} symbol(s) retrained, ${report.lstmSignals}/${symbols} LSTM signals`);
  }
  log(`${label}: ${fixed(report.trainSeconds + report.runSeconds, 2)} s, peak RSS ${fixed(report.peakRssMiB, 0)} MiB`);
  return report;
}

const rssRow = (what: string, r: ChildResult): BenchRow => ({
  metric: `${what}: peak RSS`,
  value: round(r.peakRssMiB, 0),
  unit: 'MiB',
  target: `< ${RSS_TARGET_MIB} MiB`,
  met: r.peakRssMiB < RSS_TARGET_MIB,
  detail: `maxRSS of a process doing only that (${r.backend} backend)`,
});

const processDetail = (r: ChildResult) =>
  `own process: ${fixed(r.processSeconds)} s from start to report (module loading, activation ${fixed(r.activateSeconds)} s, run)`;

function rows(sizes: string, { training, weekly }: PluginConfig, setup: Setup, runs: Record<'cached' | 'command' | 'incremental', ChildResult>): BenchRow[] {
  const { cached, command, incremental } = runs;
  const n = cached.symbols;
  const model = `hidden ${training.fast_params.hidden}, batch ${training.batch_size}`;
  return [
    {
      metric: `weekly set-up: ingest + first training, ${n} symbols`,
      value: round(setup.seconds, 1),
      unit: 's',
      detail:
        `${sizes}; ${setup.bars} bars ingested (with activation) in ${fixed(setup.ingestSeconds)} s, then the weekly run trained each symbol in fast mode in ` +
        `${fixed(setup.trainSeconds)} s (${model}, ${training.fast_params.epochs} epoch(s), ${training.cv_splits_short} CV folds, lookback ${weekly.lookback_sessions}, no importance)`,
    },
    {
      metric: `weekly run, models cached, ${n} symbols`,
      value: round(cached.runSeconds, 2),
      unit: 's',
      target: `< ${WALL_TARGET_SECONDS} s`,
      met: cached.runSeconds < WALL_TARGET_SECONDS,
      detail: `${sizes}; runWeeklyAnalysis only (load bars, features, predict, grade, log, write JSON/Excel/log), ${cached.signals} LSTM signals; ${processDetail(cached)}`,
    },
    rssRow('weekly run, models cached', cached),
    {
      metric: `weekly --data DIR, models cached, ${n} symbols`,
      value: round(command.processSeconds, 2),
      unit: 's',
      detail: `the CLI's path: process start to report, re-ingesting the unchanged CSV folder at activation (${fixed(command.activateSeconds)} s), then the run (${fixed(command.runSeconds, 2)} s); peak RSS ${fixed(command.peakRssMiB, 0)} MiB`,
    },
    {
      metric: `weekly run, incremental retraining, ${n} symbols`,
      value: round(incremental.trainSeconds + incremental.runSeconds, 2),
      unit: 's',
      detail:
        `${sizes}; ${n} incremental trainings through plugin.train, as the session-close weekly trigger runs them (weekly.training_mode allows only full or fast), ` +
        `${model}, last ${training.incremental_sessions} windows × ${training.incremental_epochs} epochs each: ` +
        `${fixed(incremental.trainSeconds)} s, then runWeeklyAnalysis ${fixed(incremental.runSeconds, 2)} s; ${processDetail(incremental)}`,
    },
    {
      metric: 'incremental training throughput',
      value: round(incremental.trainedSamples / incremental.trainSeconds, 0),
      unit: 'samples/s',
      detail: `${incremental.trainedSamples} windows × epochs in ${fixed(incremental.trainSeconds)} s of whole trainings (load model, features over all sessions, fit, save, prune), ${model}`,
    },
    rssRow('weekly run, incremental retraining', incremental),
  ];
}

async function main(): Promise<void> {
  const work = await mkdtemp(path.join(tmpdir(), 'lstm-bench-weekly-'));
  try {
    const universe = await writeUniverse(path.join(work, 'bars'), SIZE);
    const n = universe.symbols.length;
    const db = `sqlite:${path.join(work, 'bench.sqlite')}`;
    const configFile = path.join(work, 'config.json');
    const config: PluginConfigInput = { training: BENCH_TRAINING, weekly: { output_dir: path.join(work, 'output') } };
    await writeFile(configFile, JSON.stringify(config));
    const sizes = `${n} symbols (SPX + ${n - 1} synthetic GARCH), ${universe.sessions} sessions ${universe.from}..${universe.to}`;
    log(`weekly-universe${QUICK ? ' --quick' : ''}: ${sizes}, database ${db}`);

    const setup = await setUp(universe, db, configFile);
    log(`set-up done in ${fixed(setup.seconds)} s`);
    const args = (mode: WeeklyChildReport['mode']) => ['--db', db, '--config', configFile, '--mode', mode];
    const cached = await measure('cached run', args('cached'), n);
    const command = await measure('cached run through weekly --data', [...args('cached'), '--data', universe.dir], n);
    const incremental = await measure('incremental run', args('incremental'), n);
    printBench({ bench: 'weekly-universe', backend: cached.backend, rows: rows(sizes, resolveConfig(config), setup, { cached, command, incremental }) });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
