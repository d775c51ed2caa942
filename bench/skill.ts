/**
 * How good the served signals are, out of sample, beside the naive baselines on the same sessions — what
 * `lstm-signals backtest` reports — and how often the skill gate is fooled.
 *
 * Walk-forward backtests (the real triggers, retraining on the data available at each session, every signal
 * logged point-in-time and backfilled five sessions later):
 * - spx: the bundled S&P 500, 2018-04-02..2020-04-09 with the five years before it, default settings (skill gate on);
 * - spx-ungated: the same with training.skill_gate off, so the LSTM serves whatever it shows: its own skill;
 * - edge: a seeded synthetic series whose volume carries the forward 5-session return with correlation 0.6
 *   (best possible hit rate 1/2 + arcsin(0.6)/π = 70.5%), four years, smaller networks.
 * The gate: fast trainings on 20 seeded driftless series without an edge (how often it lets noise through) and on
 * 10 with one (how often it sees a real edge), counting the skill gate against the point estimate alone (Brier skill
 * above 0).
 *
 *   npx tsx bench/skill.ts [--quick] [--only spx,spx-ungated,edge,gate] [--calibration isotonic|platt|none]
 *
 * Logs go to stderr; the last stdout line is the BenchOutput JSON (bench/result.ts).
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CsvBarSource } from '../adapters/bars/csv.js';
import { replayBacktest } from '../adapters/standalone/backtest-replay.js';
import { runWalkForward } from '../adapters/standalone/walk-forward.js';
import { Store, Trainer, currentBackend, resolveConfig, type PluginConfigInput, type RunSkill, type SkillTable, type TrainingSettings } from '../plugin/index.js';
import { printBench, type BenchRow } from './result.js';
import { fixed, percent, round } from './support/numbers.js';
import { log, timed } from './support/process.js';
import { knownEdgeBars } from './support/synthetic-bars.js';
import { bundledSpx, toCsv } from './support/universe.js';

const QUICK = process.argv.includes('--quick');
const option = (name: string) => process.argv.find((a, i) => process.argv[i - 1] === name);
const ONLY = option('--only')?.split(',');
/** `--calibration isotonic|platt|none`: every scenario's calibration method (default: the configuration's). */
const CALIBRATION = option('--calibration') as TrainingSettings['calibration'] | undefined;
const wanted = (name: string) => !ONLY || ONLY.includes(name);

/** Networks that learn the synthetic edge in seconds; the real defaults run on SPX. */
const SMALL: Partial<TrainingSettings> = { fast_params: { lr: 0.003, hidden: 16, epochs: 10 }, importance_repeats: 0 };
const EDGE = 0.6;

interface Scenario {
  name: string;
  csv: () => Promise<string>;
  from: string;
  to: string;
  config: PluginConfigInput;
}

const interval = (i: { low: number; high: number }) => `[${percent(i.low)}, ${percent(i.high)}]`;
const auc = (d: SkillTable['subject']['discrimination']) => (d ? `AUC ${d.auc.toFixed(3)} [${d.interval.low.toFixed(3)}, ${d.interval.high.toFixed(3)}], p ${d.p_value.toFixed(3)}` : 'AUC n/a');
const signed = (x: number | null) => (x === null ? 'n/a' : `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(3)}`);

async function folderWith(symbol: string, bars: Parameters<typeof toCsv>[0]): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'lstm-bench-skill-'));
  await writeFile(path.join(dir, `${symbol}.csv`), toCsv(bars));
  return dir;
}

async function walkForward(s: Scenario): Promise<BenchRow[]> {
  const dbUrl = `sqlite:${path.join(await mkdtemp(path.join(tmpdir(), `lstm-bench-${s.name}-`)), 'bt.sqlite')}`;
  const source = new CsvBarSource(await s.csv(), { strict: true });
  log(`${s.name}: walk-forward ${s.from}..${s.to}`);
  const config = CALIBRATION ? { ...s.config, training: { ...s.config.training, calibration: CALIBRATION } } : s.config;
  const { value: walk, seconds } = await timed(() => runWalkForward({ source, name: s.name, from: s.from, to: s.to, mode: 'fast', dbUrl, config }));
  const store = await Store.open({ url: dbUrl, migrate: false });
  try {
    const replay = await replayBacktest(store, s.name, 'lstm-swing');
    const symbol = walk.symbols[0]!;
    const live = replay.skill[symbol]!;
    const served = live.served!;
    const runs = await store.repos.trainingRun.find({ order: { id: 'ASC' } });
    const full = runs.filter((r) => r.training_type !== 'incremental');
    const levels = Object.entries(replay.calibration.overall.by_confidence).filter(([, b]) => b.n > 0);
    const rated = levels.filter(([, b]) => b.n >= 30).map(([, b]) => b.hit_rate!);
    const monotone = rated.every((rate, i) => i === 0 || rate >= rated[i - 1]!);
    const report = replay.reports[0]!;
    const sources = Object.entries(live.by_source).map(([source, t]) => `${t.n} ${source}`).join(', ');
    const baselines = served.baselines.map((b) => `${b.name} ${percent(b.hit_rate)} ${interval(b.hit_rate_interval)}`).join(', ');
    const row = (metric: string, value: number, unit: string, detail: string, target?: string, met?: boolean): BenchRow => ({
      metric: `${s.name}: ${metric}`,
      value,
      unit,
      detail,
      ...(target && { target, met }),
    });
    const table = (t: SkillTable) => `hit ${percent(t.subject.hit_rate)} ${interval(t.subject.hit_rate_interval)} of ${t.n}; best baseline ${t.best_baseline.name} ${percent(t.best_baseline.hit_rate)}`;
    return [
      row('served hit rate', round(served.subject.hit_rate, 4), 'fraction', `${table(served)} (${s.from}..${s.to}; baselines: ${baselines}; served by source: ${sources})`),
      row(
        'served Brier skill against the base rate',
        round(served.subject.brier_skill ?? Number.NaN, 4),
        '',
        `Brier ${served.subject.brier.toFixed(4)}; IC ${signed(served.subject.ic)}; ${auc(served.subject.discrimination)}`,
      ),
      row('ECE of the calibrated P(up)', round(live.calibration!.ece_calibrated, 4), '', `raw ${live.calibration!.ece_raw.toFixed(4)}, n ${live.calibration!.n}, 10 bins`, s.name === 'edge' ? '≤ 0.05' : undefined, s.name === 'edge' ? live.calibration!.ece_calibrated <= 0.05 : undefined),
      ...(live.coverage
        ? [
            row(
              'conformal levels: realised coverage',
              round(live.coverage.realised, 4),
              'fraction',
              `${live.coverage.covered} of ${live.coverage.n} ${interval(live.coverage.interval)} vs nominal ${percent(live.coverage.nominal)}`,
              s.name === 'edge' ? 'nominal ± 5 pp' : undefined,
              s.name === 'edge' ? Math.abs(live.coverage.realised - live.coverage.nominal) <= 0.05 : undefined,
            ),
          ]
        : []),
      row(
        'hit rate by confidence level',
        levels.length,
        'levels',
        levels.map(([level, b]) => `${level}: ${percent(b.hit_rate)} ${interval(b.hit_rate_interval)} of ${b.n} (up-rate ${percent(b.up_rate)})`).join('; '),
        'non-decreasing where n ≥ 30',
        monotone,
      ),
      row(
        'strategy lstm-swing: total return',
        round(report.total_return, 4),
        'fraction',
        `buy-and-hold ${percent(report.buy_and_hold.total_return)}; ${report.trade_count} trades; Sharpe ${report.sharpe?.toFixed(2) ?? 'n/a'} vs ${report.buy_and_hold.sharpe?.toFixed(2) ?? 'n/a'}`,
      ),
      row(
        'walk-forward',
        round(seconds, 0),
        's',
        `${walk.sessions} sessions; ${full.length} full/fast trainings, ${full.filter((r) => r.validation_deployed).length} deployed; ${runs.length - full.length} incremental`,
      ),
    ];
  } finally {
    await store.close();
  }
}

/** Fast trainings on seeded series with and without an edge: how often each verdict passes. */
async function gateRows(): Promise<BenchRow[]> {
  const sessions = (await bundledSpx()).map((b) => b.date).slice(-1300);
  const config = resolveConfig({ training: { ...SMALL, arima_baseline: false } });
  const count = async (edge: number, seeds: number) => {
    let gate = 0;
    let point = 0;
    let technical = 0;
    for (let seed = 1; seed <= seeds; seed++) {
      const store = await Store.open({ url: 'sqlite::memory:' });
      try {
        const bars = knownEdgeBars('SYN', sessions, 104_729 * seed, edge, edge === 0 ? { logDrift: 0 } : {});
        const outcome = await new Trainer(store).train({ symbol: 'SYN', bars, mode: 'fast', trigger: 'bench', featureNames: config.feature_names, settings: config.training });
        const skill = (outcome.run.metrics_json as { skill: RunSkill }).skill;
        if (skill.gate.passed) gate++;
        if ((skill.holdout.subject.brier_skill ?? 0) > 0) point++;
        if (skill.fallbacks.technical?.passed) technical++;
      } finally {
        await store.close();
      }
    }
    return { gate, point, technical, seeds };
  };
  const none = await count(0, QUICK ? 4 : 20);
  const some = await count(0.9, QUICK ? 2 : 10);
  return [
    {
      metric: 'skill gate on series without an edge: LSTM passed',
      value: none.gate,
      unit: `of ${none.seeds}`,
      detail: `the point estimate alone (holdout Brier skill > 0) would have passed ${none.point}; the technical tier passed ${none.technical}; fast mode, hidden 16, 10 epochs, 63-session holdout`,
    },
    {
      metric: 'skill gate on series with a known edge (0.9): LSTM passed',
      value: some.gate,
      unit: `of ${some.seeds}`,
      detail: `the point estimate alone would have passed ${some.point}`,
    },
  ];
}

/**
 * Five years of bars before the walk-forward, as the weekly run's lookback: the initial training and every
 * triggered one see at most those years and the sessions since (full history would make each fast training
 * several minutes long).
 */
const HISTORY_SESSIONS = 1260;
const since = (bars: Awaited<ReturnType<typeof bundledSpx>>, from: string) => bars.slice(Math.max(0, bars.findIndex((b) => b.date >= from) - HISTORY_SESSIONS));
const spxFrom = (from: string) => async () => folderWith('SPX', since(await bundledSpx(), from));

const dates = QUICK ? { from: '2019-10-01', to: '2020-04-09' } : { from: '2018-04-02', to: '2020-04-09' };
const edgeDates = QUICK ? dates : { from: '2016-04-01', to: '2020-04-09' };
const scenarios: Scenario[] = [
  { name: 'spx', csv: spxFrom(dates.from), ...dates, config: {} },
  { name: 'spx-ungated', csv: spxFrom(dates.from), ...dates, config: { training: { skill_gate: false } } },
  {
    name: 'edge',
    csv: async () => folderWith('EDGE', since(knownEdgeBars('EDGE', (await bundledSpx()).map((b) => b.date), 20_261_202, EDGE), edgeDates.from)),
    ...edgeDates,
    config: { training: SMALL },
  },
];

const rows: BenchRow[] = [];
for (const s of scenarios.filter((x) => wanted(x.name))) rows.push(...(await walkForward(s)));
if (wanted('gate')) rows.push(...(await gateRows()));
log(`done: ${rows.length} rows (${fixed(performance.now() / 1000, 0)} s)`);
printBench({ bench: 'skill', backend: currentBackend()?.name ?? 'none initialised', rows });
