/**
 * A stored prediction set — a backtest's predictions, made point-in-time — and the checks a replay runs
 * before trusting it: every signal is the one logged for its session, dated on a stored session, and
 * every LSTM prediction was made by a model whose training data ended on or before that session.
 */
import type { DailyBar } from '../bar.js';
import type { Signal } from '../signals/signal.js';
import { BarStore } from '../store/bar-store.js';
import type { PredictionLogRow } from '../store/entities.js';
import type { Store } from '../store/store.js';

export interface PredictionSet {
  name: string;
  symbols: string[];
  /** Per symbol: the logged signals in session order, and the symbol's stored bars. */
  bySymbol: Record<string, { signals: Signal[]; bars: DailyBar[] }>;
}

export interface SetProblem {
  prediction_id: number;
  symbol: string;
  predict_date: string;
  problem: string;
}

/** Pure: what is wrong with `rows`, given each model version's data end and each symbol's sessions. */
export function verifyPredictions(rows: readonly PredictionLogRow[], versionDataEnd: ReadonlyMap<string, string>, sessions: ReadonlyMap<string, ReadonlySet<string>>): SetProblem[] {
  const problems: SetProblem[] = [];
  for (const row of rows) {
    const report = (problem: string) => problems.push({ prediction_id: row.id, symbol: row.symbol, predict_date: row.predict_date, problem });
    const signal = row.signal_json as unknown as Signal | null;
    if (!signal) {
      report('no signal logged with the prediction');
      continue;
    }
    if (signal.symbol !== row.symbol || signal.as_of !== row.predict_date) report(`signal is for ${signal.symbol} as of ${signal.as_of}, logged for ${row.symbol} as of ${row.predict_date}`);
    if (signal.source !== row.source || (signal.model_version ?? '') !== row.model_version_id || signal.prob_up !== row.prob_up) {
      report('signal does not match its logged prediction (source, model version or probability changed)');
    }
    if (!sessions.get(row.symbol)?.has(row.predict_date)) report(`${row.predict_date} is not a stored session of ${row.symbol}`);
    if (row.source === 'lstm') {
      const dataEnd = versionDataEnd.get(row.model_version_id);
      if (!dataEnd) report(`no record of the data model ${row.model_version_id} was trained on`);
      else if (dataEnd > row.predict_date) report(`model ${row.model_version_id} was trained on data through ${dataEnd}, after ${row.predict_date}`);
    }
  }
  return problems;
}

export class PredictionSetRefused extends Error {
  constructor(
    readonly set: string,
    readonly problems: SetProblem[],
  ) {
    const shown = problems.slice(0, 5).map((p) => `${p.symbol} ${p.predict_date} (#${p.prediction_id}): ${p.problem}`);
    super(`prediction set ${set} refused, ${problems.length} problem(s): ${shown.join('; ')}${problems.length > 5 ? '; …' : ''}`);
    this.name = 'PredictionSetRefused';
  }
}

/** Loads a set and verifies it; throws PredictionSetRefused when anything fails the checks. */
export async function loadVerifiedPredictionSet(store: Store, name: string): Promise<PredictionSet> {
  const rows = await store.repos.predictionLog.find({ where: { prediction_set: name }, order: { symbol: 'ASC', predict_date: 'ASC', id: 'ASC' } });
  if (rows.length === 0) throw new Error(`prediction set ${name} has no predictions in this database`);
  // Training runs outlive pruned versions, so every version that ever predicted can be checked.
  const runs = await store.repos.trainingRun.find({ select: { version_id: true, data_end: true } });
  const versionDataEnd = new Map(runs.filter((r) => r.version_id && r.data_end).map((r) => [r.version_id!, r.data_end!]));
  const symbols = [...new Set(rows.map((r) => r.symbol))];
  const barStore = new BarStore(store);
  const bars = Object.fromEntries(await Promise.all(symbols.map(async (s) => [s, await barStore.load(s)] as const)));
  const problems = verifyPredictions(rows, versionDataEnd, new Map(symbols.map((s) => [s, new Set(bars[s]!.map((b) => b.date))])));
  if (problems.length > 0) throw new PredictionSetRefused(name, problems);
  return {
    name,
    symbols,
    bySymbol: Object.fromEntries(
      symbols.map((s) => [s, { signals: rows.filter((r) => r.symbol === s).map((r) => r.signal_json as unknown as Signal), bars: bars[s]! }]),
    ),
  };
}
