/**
 * One measured replay, alone in its process (spawned by bench/replay.ts): what `lstm-signals backtest --replay
 * NAME` does — open the backtest's database, load and verify the prediction set, replay the strategy, report —
 * timed once cold (as the command runs it), then `--repeats - 1` more times warm in the same process.
 *
 *   node --import tsx bench/support/replay-child.ts --db sqlite:FILE --name NAME [--strategy lstm-swing] [--repeats 3]
 */
import { parseArgs } from 'node:util';
import { replayBacktest, type ReplayResult } from '../../adapters/standalone/backtest-replay.js';
import { STRATEGIES, type StrategyName } from '../../strategies/index.js';
import { Store, type Interval, type SkillTable } from '../../plugin/index.js';
import { median } from '../result.js';
import { reportToParent, timed } from './process.js';

export interface ReplayChildReport {
  strategy: StrategyName;
  /** Opening the store (no migrations), as the command does before the replay. */
  openSeconds: number;
  /** The first replay in this process. */
  coldSeconds: number;
  /** Median of the later replays; null with `--repeats 1`. */
  warmSeconds: number | null;
  repeats: number;
  predictions: number;
  /** Logged predictions by source (lstm, arima, technical). */
  bySource: Record<string, number>;
  report: {
    symbol: string;
    from: string;
    to: string;
    sessions: number;
    trades: number;
    totalReturn: number;
    cagr: number | null;
    sharpe: number | null;
    maxDrawdown: number;
    buyAndHoldReturn: number;
    /** The served hit rate with its interval and n, beside the best baseline on the same sessions (null without scored predictions). */
    hitRate: string | null;
  };
}

const { values } = parseArgs({
  options: { db: { type: 'string' }, name: { type: 'string' }, strategy: { type: 'string', default: 'lstm-swing' }, repeats: { type: 'string', default: '3' } },
});
const strategy = values.strategy as StrategyName;
const repeats = Number(values.repeats);
if (!values.db || !values.name || !(strategy in STRATEGIES) || !(repeats >= 1)) {
  throw new Error('usage: replay-child.ts --db URL --name NAME [--strategy lstm-swing|lstm-long-short] [--repeats N ≥ 1]');
}
const name = values.name;

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const interval = (i: Interval) => `[${pct(i.low)}, ${pct(i.high)}]`;

function servedLine(served: SkillTable | null): string | null {
  if (!served) return null;
  const { subject: s, best_baseline: b } = served;
  return `hit ${pct(s.hit_rate)} ${interval(s.hit_rate_interval)} of ${s.n} vs best baseline ${b.name} ${pct(b.hit_rate)} ${interval(b.hit_rate_interval)}`;
}

function headline(result: ReplayResult): ReplayChildReport['report'] {
  if (result.reports.length !== 1) throw new Error(`expected a one-symbol set, got ${result.reports.length} symbols`);
  const r = result.reports[0]!;
  return {
    symbol: r.symbol,
    from: r.from,
    to: r.to,
    sessions: r.sessions,
    trades: r.trade_count,
    totalReturn: r.total_return,
    cagr: r.cagr,
    sharpe: r.sharpe,
    maxDrawdown: r.max_drawdown,
    buyAndHoldReturn: r.buy_and_hold.total_return,
    hitRate: servedLine(result.skill[r.symbol]?.served ?? null),
  };
}

const opened = await timed(() => Store.open({ url: values.db, migrate: false }));
const store = opened.value;
try {
  const runs = [];
  for (let i = 0; i < repeats; i++) runs.push(await timed(() => replayBacktest(store, name, strategy)));
  const rows = await store.repos.predictionLog.find({ where: { prediction_set: name }, select: { source: true } });
  const bySource: Record<string, number> = {};
  for (const row of rows) bySource[row.source] = (bySource[row.source] ?? 0) + 1;
  reportToParent<ReplayChildReport>({
    strategy,
    openSeconds: opened.seconds,
    coldSeconds: runs[0]!.seconds,
    warmSeconds: runs.length > 1 ? median(runs.slice(1).map((r) => r.seconds)) : null,
    repeats,
    predictions: rows.length,
    bySource,
    report: headline(runs[0]!.value),
  });
} finally {
  await store.close();
}
