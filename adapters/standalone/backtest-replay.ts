/**
 * Replay: run a strategy on a stored, verified prediction set — no training, no model — and report it
 * against buy-and-hold, with the set's live skill per symbol (what was served beside every naive baseline on the
 * same sessions, per source and model version, calibration and conformal coverage) and the hit rate per
 * confidence level.
 */
import { calibrationReport, liveSkill, loadVerifiedPredictionSet, type CalibrationReport, type LiveSkillReport, type Store } from '../../plugin/index.js';
import { STRATEGIES, backtestReport, replaySignals, type BacktestReport, type StrategyName, type StrategyOptions, type StrategyRun } from '../../strategies/index.js';

export interface ReplayResult {
  name: string;
  strategy: StrategyName;
  from: string;
  to: string;
  reports: BacktestReport[];
  runs: StrategyRun[];
  /** Share of the set's backfilled predictions whose direction was right, per symbol: read it with `skill` beside it. */
  direction_accuracy: Record<string, number | null>;
  /** Per symbol, the set's skill against the naive baselines on the same sessions, with n and intervals. */
  skill: Record<string, LiveSkillReport>;
  calibration: CalibrationReport;
}

export async function replayBacktest(store: Store, name: string, strategy: StrategyName, options: Partial<StrategyOptions> = {}): Promise<ReplayResult> {
  const set = await loadVerifiedPredictionSet(store, name);
  const registered = await store.repos.backtest.findOneBy({ name });
  const runs: StrategyRun[] = [];
  const reports: BacktestReport[] = [];
  const accuracy: Record<string, number | null> = {};
  const skill: Record<string, LiveSkillReport> = {};
  let from = '9999-12-31';
  let to = '0000-01-01';
  for (const symbol of set.symbols) {
    const { signals, bars: all } = set.bySymbol[symbol]!;
    const start = registered?.date_from ?? signals[0]!.as_of;
    const end = registered?.date_to ?? all[all.length - 1]!.date;
    const bars = all.filter((b) => b.date >= start && b.date <= end);
    from = start < from ? start : from;
    to = end > to ? end : to;
    const run = replaySignals(new STRATEGIES[strategy](symbol, options), bars, signals.filter((s) => s.as_of >= start && s.as_of <= end));
    runs.push(run);
    reports.push(backtestReport(run, bars));
    const records = await store.repos.accuracyRecord.find({ where: { prediction_set: name, symbol } });
    accuracy[symbol] = records.length ? records.filter((r) => r.direction_correct).length / records.length : null;
    skill[symbol] = await liveSkill(store, symbol, name);
  }
  const result: ReplayResult = { name, strategy, from, to, reports, runs, direction_accuracy: accuracy, skill, calibration: await calibrationReport(store, name) };
  if (registered) {
    registered.report_json = { ...(registered.report_json ?? {}), [strategy]: { reports, direction_accuracy: accuracy, skill, calibration: result.calibration } };
    await store.repos.backtest.save(registered);
  }
  return result;
}
