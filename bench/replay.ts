/**
 * Replaying a 10-year prediction set through the `lstm-swing` strategy, as `lstm-signals backtest --replay NAME`
 * does: load the set, verify it (signals match their log rows, every LSTM version trained only on data before
 * its as-of session), replay, report.
 *
 * Set-up: the set is a real walk-forward backtest of the bundled S&P 500 over 2010-01-04..2019-12-31 (2,516
 * sessions), with the real triggers (weekly incremental; monthly, quarterly and performance-decay retrainings in
 * fast mode) but toy-size networks (test/support/tiny-training.ts: hidden 4, 1 epoch) and a 300-session
 * training lookback, so it builds in minutes instead of hours. It is cached in bench/.cache/prediction-sets/ (see
 * support/prediction-set-cache.ts) and reused while its inputs are unchanged; the rows say which. The replay
 * runs on a copy, in a process of its own, so its peak RSS is the replay's alone.
 *
 *   npx tsx bench/replay.ts            # full size
 *   npx tsx bench/replay.ts --quick    # half a year (2019-07..2019-12): only checks that the script runs
 *
 * Logs go to stderr; the last stdout line is the BenchOutput JSON (bench/result.ts).
 */
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveConfig } from '../plugin/index.js';
import { TINY_TRAINING } from '../test/support/tiny-training.js';
import { printBench, type BenchRow } from './result.js';
import { cachedPredictionSet, type CachedSet, type SetSpec } from './support/prediction-set-cache.js';
import { fixed, percent, round } from './support/numbers.js';
import { log, runChild, timed, type ChildFigures } from './support/process.js';
import type { ReplayChildReport } from './support/replay-child.js';

const QUICK = process.argv.includes('--quick');
const RSS_TARGET_MIB = 1024;
const STRATEGY = 'lstm-swing';

const SET: SetSpec = {
  ...(QUICK ? { name: 'bench-replay-quick', from: '2019-07-01', to: '2019-12-31' } : { name: 'bench-replay-10y', from: '2010-01-04', to: '2019-12-31' }),
  // The lookback bounds each triggered fast training to the last 300 sessions, as test/walk-forward.test.ts does.
  config: { training: TINY_TRAINING, triggers: { lookback_sessions: 300 } },
};

function setupRow(set: CachedSet, setupSeconds: number): BenchRow {
  const { training, triggers } = resolveConfig(set.spec.config);
  const trainings = Object.entries(set.trainings).map(([type, n]) => `${n} ${type}`).join(', ');
  const origin = set.built ? 'built by this run' : `reused from bench/.cache (built ${set.builtAt}); this run's set-up took ${fixed(setupSeconds * 1000, 0)} ms`;
  return {
    metric: `replay set-up: walk-forward prediction set, ${set.sessions} sessions`,
    value: round(set.buildSeconds, 1),
    unit: 's',
    detail: `${origin}; SPX ${set.spec.from}..${set.spec.to}, fast mode; trainings by trigger: ${trainings}; hidden ${training.fast_params.hidden}, ${training.fast_params.epochs} epoch(s), incremental ${training.incremental_sessions} windows × ${training.incremental_epochs} epoch(s), lookback ${triggers.lookback_sessions} sessions`,
  };
}

function replayRows(r: ReplayChildReport & ChildFigures): BenchRow[] {
  const h = r.report;
  const sources = Object.entries(r.bySource).map(([source, n]) => `${n} ${source}`).join(', ');
  const headline =
    `${h.trades} trades, return ${percent(h.totalReturn)} (CAGR ${percent(h.cagr)}, Sharpe ${h.sharpe?.toFixed(2) ?? 'n/a'}, max drawdown ${percent(h.maxDrawdown)}) ` +
    `vs buy-and-hold ${percent(h.buyAndHoldReturn)}; predictions: ${h.hitRate ?? 'none scored'}`;
  const warm = r.warmSeconds === null ? '' : `; warm (median of ${r.repeats - 1} more in the same process) ${fixed(r.warmSeconds, 2)} s`;
  return [
    {
      metric: `replay ${r.strategy}, ${h.sessions} sessions`,
      value: round(r.coldSeconds, 3),
      unit: 's',
      detail: `${h.symbol} ${h.from}..${h.to}, ${r.predictions} predictions (${sources}); load + verify + replay + report, first run in a fresh process${warm}; store open ${fixed(r.openSeconds, 2)} s, process start to report ${fixed(r.processSeconds)} s; ${headline}`,
    },
    {
      metric: 'replay throughput',
      value: round(r.predictions / r.coldSeconds, 0),
      unit: 'predictions/s',
      detail: `cold run; ${fixed(h.sessions / r.coldSeconds, 0)} sessions/s`,
    },
    {
      metric: 'replay: peak RSS',
      value: round(r.peakRssMiB, 0),
      unit: 'MiB',
      target: `< ${RSS_TARGET_MIB} MiB`,
      met: r.peakRssMiB < RSS_TARGET_MIB,
      detail: 'maxRSS of a process doing only the replay',
    },
  ];
}

async function main(): Promise<void> {
  const { value: set, seconds: setupSeconds } = await timed(() => cachedPredictionSet(SET));
  // The replay stores its report in the backtest's row: it works on a copy, so the cached set stays as built.
  const work = await mkdtemp(path.join(tmpdir(), 'lstm-bench-replay-'));
  try {
    const copy = path.join(work, 'set.sqlite');
    await copyFile(set.file, copy);
    log(`replaying ${set.spec.name} (${set.sessions} sessions) with ${STRATEGY}`);
    const replay = await runChild<ReplayChildReport>('replay-child.ts', ['--db', `sqlite:${copy}`, '--name', set.spec.name, '--strategy', STRATEGY]);
    printBench({ bench: 'replay', backend: set.backend, rows: [setupRow(set, setupSeconds), ...replayRows(replay)] });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
