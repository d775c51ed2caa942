/**
 * What happens when a session closes — the same for live trading and a backtest's simulated clock:
 * for each followed symbol, predict and emit the signal, backfill the accuracy that has come due, check
 * the triggers and queue the training they ask for, and raise the alerts that are active.
 *
 * Each symbol's run of each session is recorded (`SessionRuns`). Earlier sessions whose run never finished —
 * the process killed, the database unavailable — are processed first, oldest first, up to `catch_up_sessions`
 * of them: their predictions are logged (from their own bars only) and their trainings queued, but no signal is
 * emitted and no alert raised for a session that is over. Every step is idempotent, so a step done before the
 * crash is not done twice: the prediction log is write-once, backfill fills what is missing, the trigger decision
 * is one per session (a decision whose training was never queued is queued then).
 */
import { updateAccuracy } from '../accuracy/backfill.js';
import type { PluginConfig } from '../config.js';
import type { DailyBar } from '../bar.js';
import type { Logger } from '../host.js';
import { activeAlerts } from '../monitoring/alert-input.js';
import type { AlertService } from '../monitoring/alert-service.js';
import type { TrainingQueue } from '../queue/training-queue.js';
import type { Prediction, Predictor } from '../signals/predictor.js';
import type { Signal } from '../signals/signal.js';
import { BarStore } from '../store/bar-store.js';
import type { Store } from '../store/store.js';
import type { TrainingMode } from '../training/trainer.js';
import { checkTriggers } from '../triggers/trigger-check.js';
import type { TriggerType } from '../triggers/trigger-rules.js';
import { SessionRuns } from './session-runs.js';

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
  /** Earlier sessions processed now because their run had not finished, oldest first. */
  caught_up: Array<{ session: string; error: string | null }>;
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
  return { symbol, signal: null, backfilled: 0, trigger: null, trigger_candidates: [], training_type: null, trigger_reason: null, job_id: null, alerts: [], error: null, caught_up: [] };
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** One symbol's run of one session, given its bars up to that session; `late` for a session caught up. */
async function runSession(deps: SessionRunnerDeps, bars: DailyBar[], session: string, nextSession: string | undefined, late: boolean): Promise<SymbolSessionReport> {
  const { store, config } = deps;
  const symbol = bars[0]!.symbol;
  const report = emptyReport(symbol);
  const stage = (what: string) => deps.logger.debug(`lstm-signals: session ${session}: ${symbol}: ${what}`);

  // A session caught up keeps the prediction an earlier attempt logged: a model trained since must not add another.
  const logged = late ? await store.repos.predictionLog.findOne({ where: { prediction_set: deps.predictionSet, symbol, predict_date: session }, order: { id: 'ASC' } }) : null;
  if (logged) {
    report.signal = logged.signal_json as unknown as Signal;
  } else {
    const prediction = await deps.predictor.predictFromBars(symbol, bars, { predictionSet: deps.predictionSet });
    if (!late) deps.announce(prediction);
    report.signal = prediction.signal;
  }
  stage('prediction logged');
  report.backfilled = (await updateAccuracy(store, symbol, session, deps.predictionSet, { arimaBaseline: config.training.arima_baseline })).written.length;
  stage('accuracy backfilled');

  const check = await checkTriggers(store, config, symbol, { session, nextSession, record: config.triggers.enabled });
  stage('trigger decided');
  // This session's decision, or (a session caught up) one an earlier attempt stored but could not queue.
  const decided = check.recorded ?? (late ? check.unqueued : null);
  if (config.triggers.enabled && decided?.trigger_type && decided.training_type) {
    const mode = decided.training_type as TrainingMode;
    const lookback = config.triggers.lookback_sessions;
    const job = await deps.queue.enqueue({
      symbol,
      mode,
      trigger: decided.trigger_type,
      session,
      ...(lookback && mode !== 'incremental' && { start: bars[Math.max(0, bars.length - lookback)]!.date }),
    });
    await store.repos.triggerDecision.update({ id: decided.id }, { job_id: job.id });
    report.job_id = job.id;
    stage('training queued');
  }
  Object.assign(report, { trigger: check.trigger, trigger_candidates: check.candidates, training_type: check.mode, trigger_reason: check.reason });

  if (!late) {
    report.alerts = (await deps.alerts.raise(await activeAlerts(store, config, symbol, session, check.decay))).map((a) => a.alert_type);
    stage('alerts raised');
  }
  return report;
}

/** Runs `session` for the symbol, recording the attempt and its outcome; a failure is recorded when it can be. */
async function recordedRun(deps: SessionRunnerDeps, runs: SessionRuns, bars: DailyBar[], session: string, nextSession: string | undefined, late: boolean): Promise<SymbolSessionReport> {
  const symbol = bars[0]!.symbol;
  await runs.start(symbol, session);
  try {
    const report = await runSession(deps, bars, session, nextSession, late);
    await runs.finish(symbol, session);
    return report;
  } catch (error) {
    // Recording the failure needs the database that may be what failed; the run stays `started` then, owed just the same.
    await runs.finish(symbol, session, message(error)).catch(() => undefined);
    throw error;
  }
}

async function processSymbol(deps: SessionRunnerDeps, symbol: string, session: string, nextSession?: string): Promise<SymbolSessionReport> {
  const bars = await new BarStore(deps.store).load(symbol, { to: session });
  if (bars[bars.length - 1]?.date !== session) return { ...emptyReport(symbol), error: `${symbol}: no bar on ${session}` };
  const runs = new SessionRuns(deps.store, deps.predictionSet);
  const dates = bars.map((b) => b.date);
  const owed = await runs.owed(symbol, dates, session);
  const limit = deps.config.catch_up_sessions;
  if (owed.length > limit) {
    deps.logger.warn(`lstm-signals: session ${session}: ${symbol}: ${owed.length} earlier sessions were not processed; catching up the last ${limit} (catch_up_sessions)`, {
      skipped: owed.slice(0, owed.length - limit),
    });
  }
  const caughtUp: SymbolSessionReport['caught_up'] = [];
  for (const missed of owed.slice(owed.length - limit)) {
    const end = dates.indexOf(missed);
    try {
      await recordedRun(deps, runs, bars.slice(0, end + 1), missed, dates[end + 1], true);
      caughtUp.push({ session: missed, error: null });
    } catch (error) {
      // A session that fails again is recorded as failed and left: this session's own run comes first.
      deps.logger.error(`lstm-signals: session ${session}: ${symbol}: catching up ${missed} failed: ${message(error)}`);
      caughtUp.push({ session: missed, error: message(error) });
    }
  }
  return { ...(await recordedRun(deps, runs, bars, session, nextSession, false)), caught_up: caughtUp };
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
