/**
 * What happens when a session closes — the same for live trading and a backtest's simulated clock:
 * for each followed symbol, predict and emit the signal, backfill the accuracy that has come due, check
 * the triggers and queue the training they ask for, and raise the alerts that are active.
 */
import { updateAccuracy } from '../accuracy/backfill.js';
import type { PluginConfig } from '../config.js';
import type { Logger } from '../host.js';
import { activeAlerts } from '../monitoring/alert-input.js';
import type { AlertService } from '../monitoring/alert-service.js';
import type { TrainingQueue } from '../queue/training-queue.js';
import type { Prediction, Predictor } from '../signals/predictor.js';
import type { Signal } from '../signals/signal.js';
import { BarStore } from '../store/bar-store.js';
import type { Store } from '../store/store.js';
import { checkTriggers } from '../triggers/trigger-check.js';
import type { TriggerType } from '../triggers/trigger-rules.js';

export interface SymbolSessionReport {
  symbol: string;
  /** Null when the symbol has no bar on the session (or its prediction failed: see `error`). */
  signal: Signal | null;
  backfilled: number;
  trigger: TriggerType | null;
  /** Every trigger that fired this session, in priority order. */
  trigger_candidates: TriggerType[];
  training_type: string | null;
  trigger_reason: string | null;
  job_id: number | null;
  alerts: string[];
  error: string | null;
}

export interface SessionReport {
  session: string;
  symbols: SymbolSessionReport[];
}

export interface SessionRunnerDeps {
  store: Store;
  config: PluginConfig;
  logger: Logger;
  predictor: Predictor;
  queue: TrainingQueue;
  alerts: Pick<AlertService, 'raise'>;
  predictionSet: string;
  /** Called with every prediction, to emit `lstm:prediction` and `lstm:signal`. */
  announce: (prediction: Prediction) => void;
}

function emptyReport(symbol: string): SymbolSessionReport {
  return { symbol, signal: null, backfilled: 0, trigger: null, trigger_candidates: [], training_type: null, trigger_reason: null, job_id: null, alerts: [], error: null };
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

async function processSymbol(deps: SessionRunnerDeps, symbol: string, session: string, nextSession?: string): Promise<SymbolSessionReport> {
  const { store, config } = deps;
  const report = emptyReport(symbol);
  const bars = await new BarStore(store).load(symbol, { to: session });
  if (bars[bars.length - 1]?.date !== session) return { ...report, error: `${symbol}: no bar on ${session}` };

  const prediction = await deps.predictor.predictFromBars(symbol, bars, { predictionSet: deps.predictionSet });
  deps.announce(prediction);
  report.signal = prediction.signal;
  report.backfilled = (await updateAccuracy(store, symbol, session, deps.predictionSet, { arimaBaseline: config.training.arima_baseline })).written.length;

  const check = await checkTriggers(store, config, symbol, { session, nextSession, record: config.triggers.enabled });
  if (config.triggers.enabled && check.trigger && check.mode && check.recorded) {
    const lookback = config.triggers.lookback_sessions;
    const job = await deps.queue.enqueue({
      symbol,
      mode: check.mode,
      trigger: check.trigger,
      session,
      ...(lookback && check.mode !== 'incremental' && { start: bars[Math.max(0, bars.length - lookback)]!.date }),
    });
    await store.repos.triggerDecision.update({ id: check.recorded.id }, { job_id: job.id });
    report.job_id = job.id;
  }
  Object.assign(report, { trigger: check.trigger, trigger_candidates: check.candidates, training_type: check.mode, trigger_reason: check.reason });

  report.alerts = (await deps.alerts.raise(await activeAlerts(store, config, symbol, session, check.decay))).map((a) => a.alert_type);
  return report;
}

export async function processSession(deps: SessionRunnerDeps, symbols: readonly string[], session: string, nextSession?: string): Promise<SessionReport> {
  const reports: SymbolSessionReport[] = [];
  for (const symbol of symbols) {
    try {
      reports.push(await processSymbol(deps, symbol, session, nextSession));
    } catch (error) {
      // One symbol's failure (say, no forecast at all) must not cost the others their signals.
      deps.logger.error(`lstm-signals: session ${session}: ${symbol}: ${message(error)}`);
      reports.push({ ...emptyReport(symbol), error: message(error) });
    }
  }
  return { session, symbols: reports };
}
