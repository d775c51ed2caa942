/**
 * The walk-forward backtest: the plugin on the standalone host with a simulated clock. Bars are
 * released one session at a time, the same session-close path predicts, backfills, fires triggers and
 * retrains on the data available then, and every prediction is logged under the backtest's name.
 * Each run gets a database of its own: a backtest must never share models or bars with live trading.
 * Alerts are stored with their simulated dates and not sent, unless the configuration sets alerts.delivery.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { ModelRegistry, createPlugin, type Logger, type PluginConfigInput, type SessionReport } from '../../plugin/index.js';
import type { BarSource } from '../bars/source.js';
import { StandaloneHost } from './host.js';
import { createConsoleLogger } from './logger.js';

export interface WalkForwardOptions {
  source: BarSource;
  /** The backtest's name: its prediction set, and by default its database file backtests/NAME.sqlite. */
  name: string;
  from: string;
  to: string;
  mode: 'fast' | 'full';
  symbols?: string[];
  dbUrl?: string;
  config?: PluginConfigInput;
  logger?: Logger;
  onSession?: (report: SessionReport) => void;
  /** Called once the initial models are trained (index 0), then after every session (index 1..total). */
  onProgress?: (progress: WalkForwardProgress) => void;
}

export interface WalkForwardProgress {
  /** Sessions run so far: 0 once the initial models are trained, `total` after the last. */
  index: number;
  total: number;
  /** The session just run; null at index 0. */
  session: string | null;
  /** Trainings completed so far, the initial ones included. */
  trainings: number;
  failedTrainings: number;
}

export interface WalkForwardResult {
  name: string;
  db_url: string;
  symbols: string[];
  from: string;
  to: string;
  sessions: number;
  initial_versions: Record<string, string>;
}

export function defaultBacktestDb(name: string): string {
  return `sqlite:${path.join('backtests', `${name}.sqlite`)}`;
}

export async function runWalkForward(options: WalkForwardOptions): Promise<WalkForwardResult> {
  const { source, name, from, to } = options;
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(name)) throw new Error(`backtest name "${name}" must be 1–64 letters, digits, '.', '_' or '-'`);
  if (from > to) throw new Error(`--from ${from} is after --to ${to}`);
  const symbols = options.symbols ?? (await source.symbols());
  const dates = [...new Set((await Promise.all(symbols.map(async (s) => (await source.load(s)).bars.map((b) => b.date)))).flat())].sort();
  const sessions = dates.filter((d) => d >= from && d <= to);
  const before = dates.filter((d) => d < from);
  if (sessions.length === 0) throw new Error(`no sessions between ${from} and ${to}`);
  if (before.length === 0) throw new Error(`no bars before ${from}: the initial model must be trained on earlier data`);
  const dbUrl = options.dbUrl ?? defaultBacktestDb(name);
  if (dbUrl.startsWith('sqlite:') && !dbUrl.includes(':memory:')) await mkdir(path.dirname(path.resolve(dbUrl.slice('sqlite:'.length))), { recursive: true });

  const logger = options.logger ?? createConsoleLogger('warn');
  const host = new StandaloneHost({ source, logger, now: before[before.length - 1] });
  const base = options.config ?? {};
  const plugin = createPlugin({
    ...base,
    db_url: dbUrl,
    symbols,
    prediction_set: name,
    // Trainings finish before the next session is released, in this process: the run is deterministic.
    triggers: { ...base.triggers, runner: 'inline', full_mode: options.mode },
    // Years of historical alerts must never reach a live webhook (LSTM_ALERT_WEBHOOK included): stored only, unless the configuration asks.
    alerts: { ...base.alerts, delivery: base.alerts?.delivery ?? false },
  });
  if (options.onSession) host.bus.on('lstm:session:processed', options.onSession);
  const done = { trainings: 0, failedTrainings: 0 };
  host.bus.on('lstm:training:completed', () => done.trainings++);
  host.bus.on('lstm:training:failed', () => done.failedTrainings++);
  const progress = (index: number, session: string | null) => options.onProgress?.({ index, total: sessions.length, session, ...done });
  await plugin.activate(host);
  try {
    const store = plugin.store!;
    if (await store.repos.backtest.existsBy({ name })) throw new Error(`backtest ${name} already exists in ${dbUrl}: choose another name or database`);
    const registry = new ModelRegistry(store);
    for (const symbol of symbols) {
      if (await registry.currentVersionId(symbol)) throw new Error(`${dbUrl} already holds a model for ${symbol}: a backtest needs a database of its own`);
    }
    const initial: Record<string, string> = {};
    for (const symbol of symbols) initial[symbol] = (await plugin.train({ symbol, mode: options.mode, trigger: 'backtest_initial' })).versionId;
    progress(0, null);

    for (const [i, session] of sessions.entries()) {
      // The exchange calendar (not prices) is known ahead: the next session tells week, month and quarter ends.
      await host.closeSession(session, dates[dates.indexOf(session) + 1]);
      await plugin.idle();
      await plugin.trainingIdle();
      if (i % 50 === 49) logger.info(`backtest ${name}: ${i + 1}/${sessions.length} sessions`);
      progress(i + 1, session);
    }
    await store.repos.backtest.save({ name, symbols_json: symbols, date_from: from, date_to: to, training_type: options.mode, sessions: sessions.length, report_json: null });
    return { name, db_url: dbUrl, symbols, from, to, sessions: sessions.length, initial_versions: initial };
  } finally {
    await plugin.deactivate();
  }
}
