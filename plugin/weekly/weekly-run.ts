/**
 * The weekly run, what a trading manager calls: for each symbol, retrain when its model is missing or
 * stale (or when forced), predict, grade and log; then write the signals JSON, the status JSON, the Excel
 * report and the run log. One failing symbol is reported and never stops the others. A current model whose
 * bytes cannot be loaded is retrained, alerted, and makes the run `degraded`.
 */
import path from 'node:path';
import { addCalendarDays, calendarDaysBetween } from '../calendar.js';
import type { PluginConfig } from '../config.js';
import { buildFeatureFrame, FEATURE_HISTORY, type FeatureName } from '../features/frame.js';
import type { Logger } from '../host.js';
import type { AlertService } from '../monitoring/alert-service.js';
import { corruptCurrentModel, corruptModelAlert, type CorruptModel } from '../monitoring/model-integrity.js';
import { ModelRegistry } from '../registry/model-registry.js';
import { TrainingLog } from '../registry/training-log.js';
import { LIVE_SET } from '../signals/prediction-log.js';
import { Predictor, type Prediction } from '../signals/predictor.js';
import type { Signal } from '../signals/signal.js';
import { liveSkill, type LiveSkillReport } from '../skill/live-skill.js';
import { BarStore } from '../store/bar-store.js';
import type { Store } from '../store/store.js';
import type { TrainingJobRequest } from '../queue/training-queue.js';
import type { TrainOutcome } from '../training/trainer.js';
import { writeExcelReport, type ReportRow } from './excel-report.js';
import {
  appendLogLine,
  readStatusFile,
  fileStamp,
  outOfDistributionNote,
  runLogFile,
  skillNote,
  staleNote,
  weeklyPaths,
  writeAtomically,
  type WeeklyLiveSkill,
  type WeeklyModelSkill,
  type WeeklySignalsFile,
  type WeeklyStatusFile,
} from './output-files.js';

export interface WeeklyRunOptions {
  forceRetrain?: boolean;
  /** Default: every symbol with stored bars. */
  symbols?: string[];
  /** Symbols the bar feed could not deliver, with why: reported as failures without trying them. */
  unavailable?: ReadonlyMap<string, string>;
  /** The run's time on the host's clock (default the wall clock), for file names, `generation_time` and the signals' data age. */
  now?: Date;
  onPrediction?: (prediction: Prediction) => void;
}

export interface WeeklyRunResult {
  status: WeeklyStatusFile['status'];
  total_stocks_analyzed: number;
  signals: Signal[];
  /** Per symbol: the holdout skill its signal carries and what the live set has shown (as in the signals file). */
  model_skill: Record<string, WeeklyModelSkill>;
  /** Symbols whose signal is stale, and every stale / unskilled / out-of-distribution signal in plain words (as in the status file). */
  stale_signals: string[];
  notes: string[];
  retrained: Array<{ symbol: string; version_id: string; deployed: boolean; reason: string }>;
  /** Symbols whose latest training was recent enough (within weekly.cache_days of their latest bar): what they had was used again. */
  not_retrained: Array<{ symbol: string; latest_data_end: string; age_days: number }>;
  failures: Array<{ symbol: string; error: string }>;
  /** Symbols whose current model could not be loaded (its bytes missing or failing their checksum): retrained, alerted, and the run is `degraded`. */
  degraded: CorruptModel[];
  /** The signals JSON and the Excel report are null when the run produced no signal: an empty report would pass for a result. */
  files_generated: { json_file: string | null; status_file: string; excel_file: string | null; log_file: string };
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** The live record in the signals file's shape; null while nothing has been backfilled. */
export function weeklyLiveSkill(live: LiveSkillReport): WeeklyLiveSkill | null {
  const { served } = live;
  if (!served) return null;
  return {
    n: served.subject.n,
    hit_rate: served.subject.hit_rate,
    hit_rate_interval: served.subject.hit_rate_interval,
    best_baseline: served.best_baseline,
    brier_skill: served.subject.brier_skill,
    ic: served.subject.ic,
    ece_calibrated: live.calibration?.ece_calibrated ?? null,
    coverage_realised: live.coverage?.realised ?? null,
    coverage_nominal: live.coverage?.nominal ?? null,
  };
}

export async function runWeeklyAnalysis(
  deps: {
    store: Store;
    config: PluginConfig;
    logger: Logger;
    alerts: Pick<AlertService, 'fire'>;
    /** Queues the training and resolves with its outcome once it has run (the training queue). */
    train: (request: TrainingJobRequest) => Promise<TrainOutcome>;
  },
  options: WeeklyRunOptions = {},
): Promise<WeeklyRunResult> {
  const { store, config } = deps;
  const now = options.now ?? new Date();
  const stamp = fileStamp(now);
  const paths = weeklyPaths(config.weekly.output_dir);
  const logFile = runLogFile(config.weekly.output_dir, now);
  /** To the host's logger and the run's log file; `fileOnly` for what the host has been told already. */
  const log = async (level: 'info' | 'warn' | 'error', line: string, fileOnly = false) => {
    if (!fileOnly) deps.logger[level](line);
    await appendLogLine(logFile, `${level.toUpperCase()} ${line}`);
  };

  const bars = new BarStore(store);
  const registry = new ModelRegistry(store);
  const trainingLog = new TrainingLog(store);
  const predictor = new Predictor(store, config, () => now);
  const symbols = options.symbols ?? (await bars.coverage()).map((c) => c.symbol);
  await log('info', `weekly run ${stamp}: ${symbols.length} symbol(s)${options.forceRetrain ? ', forced retraining' : ''}`);

  const rows: ReportRow[] = [];
  const retrained: WeeklyRunResult['retrained'] = [];
  const notRetrained: WeeklyRunResult['not_retrained'] = [];
  const failures: WeeklyRunResult['failures'] = [];
  const degraded: CorruptModel[] = [];
  try {
    for (const symbol of symbols) {
      try {
        const unavailable = options.unavailable?.get(symbol);
        if (unavailable) throw new Error(`${symbol}: no bars from the feed: ${unavailable}`);
        const history = await bars.load(symbol);
        if (history.length === 0) throw new Error(`${symbol}: no stored bars`);
        const asOf = history[history.length - 1]!.date;
        // The latest training decides, deployed or not: a candidate the skill gate refused is not retried on the same data.
        const latest = (await trainingLog.runs({ symbol, limit: 1 }))[0] ?? (await registry.current(symbol));
        const age = latest?.data_end ? calendarDaysBetween(latest.data_end, asOf) : undefined;
        // A current model that cannot be loaded is retrained like a missing one, and the run says so: ARIMA answering is no success.
        const corrupt = await corruptCurrentModel(registry, symbol);
        if (corrupt) {
          degraded.push(corrupt);
          await log('error', corrupt.reason);
        }
        if (options.forceRetrain || age === undefined || age > config.weekly.cache_days || corrupt) {
          const why = options.forceRetrain ? 'forced' : corrupt ? 'current model corrupted' : age === undefined ? 'never trained' : `latest training's data ${age} days old`;
          await log('info', `${symbol}: retraining (${why}), ${config.weekly.training_mode} mode`);
          // What the retraining did, for the alert about a corrupted model.
          let repair: string;
          let details: Record<string, unknown>;
          try {
            // A job like any other training: a weekly run at the same time on the same data joins it (one job per symbol, mode and session).
            const outcome = await deps.train({
              symbol,
              mode: config.weekly.training_mode,
              trigger: 'weekly_run',
              session: asOf,
              start: history[Math.max(0, history.length - config.weekly.lookback_sessions)]!.date,
            });
            retrained.push({ symbol, version_id: outcome.versionId, deployed: outcome.deployed, reason: outcome.reason });
            await log('info', `${symbol}: ${outcome.versionId} ${outcome.deployed ? 'deployed' : 'not deployed'}: ${outcome.reason}`);
            repair = outcome.deployed ? `retrained: ${outcome.versionId} deployed` : `retrained: ${outcome.versionId} not deployed (${outcome.reason})`;
            details = { replacement_version_id: outcome.versionId, deployed: outcome.deployed };
          } catch (error) {
            // The prediction still runs: an older model or the fallback chain may answer.
            await log('warn', `${symbol}: retraining failed: ${message(error)}`);
            repair = `retraining failed: ${message(error)}`;
            details = { replacement_version_id: null, deployed: false };
          }
          if (corrupt) await deps.alerts.fire([corruptModelAlert(corrupt, repair, details)]);
        } else {
          notRetrained.push({ symbol, latest_data_end: latest!.data_end!, age_days: age });
          await log('info', `${symbol}: not retrained: the latest training's data ended ${latest!.data_end}, ${age} days before the latest bar (weekly.cache_days ${config.weekly.cache_days})`);
        }
        const prediction = await predictor.predictFromBars(symbol, history);
        options.onPrediction?.(prediction);
        const { signal } = prediction;
        // The report shows the last session's indicators: they need only the recent history (FEATURE_HISTORY).
        const frame = buildFeatureFrame(history.slice(-(FEATURE_HISTORY + 1)), config.feature_names as FeatureName[]);
        const lastRow = frame.rows[frame.rows.length - 1] ?? [];
        // What the live set has shown so far: predictions of earlier runs and sessions, backfilled 5 sessions later.
        const live = weeklyLiveSkill(await liveSkill(store, symbol, LIVE_SET));
        const skill: WeeklyModelSkill = { shown: signal.skill.shown, summary: signal.skill.summary, holdout: signal.skill.measured, live };
        rows.push({ signal, skill, indicators: Object.fromEntries(frame.featureNames.map((name, i) => [name, lastRow[i]!])) });
        await log('info', `${symbol}: ${signal.grade} (confidence ${signal.confidence}, ${signal.source}) as of ${signal.as_of}, data ${signal.data_age_days} days old${signal.stale ? ' (STALE)' : ''}`);
        if (signal.stale) await log('warn', staleNote(signal, now, config.signals.max_data_age_days));
        const unskilled = skillNote(signal);
        if (unskilled) await log('warn', unskilled);
        if (signal.out_of_distribution) await log('warn', outOfDistributionNote(signal, config.signals.max_dissimilarity));
      } catch (error) {
        const text = message(error).startsWith(`${symbol}:`) ? message(error) : `${symbol}: ${message(error)}`;
        failures.push({ symbol, error: text });
        // A feed failure was logged when the plugin found it, at activation.
        await log('error', text, options.unavailable?.has(symbol));
      }
    }
  } finally {
    predictor.dispose();
  }

  const signals = rows.map((r) => r.signal);
  const modelSkill = Object.fromEntries(rows.map((r) => [r.signal.symbol, r.skill]));
  const staleSignals = signals.filter((s) => s.stale);
  const withoutSkill = signals.filter((s) => s.skill.shown !== true);
  const outOfDistribution = signals.filter((s) => s.out_of_distribution);
  // Stale or unskilled signals are no failure (the run did what it could with the data there is): they are said, not hidden.
  const notes = [
    ...degraded.map((d) => d.reason),
    ...staleSignals.map((s) => staleNote(s, now, config.signals.max_data_age_days)),
    ...withoutSkill.map((s) => skillNote(s)!),
    ...outOfDistribution.map((s) => outOfDistributionNote(s, config.signals.max_dissimilarity)),
  ];
  const status: WeeklyStatusFile['status'] = failures.length > 0 ? (signals.length > 0 ? 'partial' : 'failed') : degraded.length > 0 ? 'degraded' : 'success';
  const jsonFile = signals.length > 0 ? path.join(paths.signalsDir, `weekly_signals_${stamp}.json`) : null;
  const excelFile = signals.length > 0 ? path.join(paths.resultDir, `lstm_weekly_report_${stamp}.xlsx`) : null;
  const signalsFile: WeeklySignalsFile = {
    timestamp: stamp,
    generation_time: now.toISOString(),
    model_type: 'weekly_lstm',
    prediction_horizon: `${signals[0]?.horizon ?? 5}_days`,
    total_stocks_analyzed: signals.length,
    signals: rows.map((r) => ({ ticker: r.signal.symbol, ...r.signal, model_skill: r.skill })),
    stale_signals: staleSignals.map((s) => s.symbol),
    failures,
  };
  if (jsonFile && excelFile) {
    await writeAtomically(jsonFile, `${JSON.stringify(signalsFile, null, 2)}\n`);
    await writeExcelReport(excelFile, rows, { now, maxDataAgeDays: config.signals.max_data_age_days });
  }
  // With no signal of its own, the status still points readers at the latest signals an earlier run wrote.
  const latestSignalFile = jsonFile ?? (await readStatusFile(config.weekly.output_dir))?.latest_signal_file ?? null;
  const count = (action: Signal['action']) => signals.filter((s) => s.action === action).length;
  const statusFile: WeeklyStatusFile = {
    last_run: now.toISOString(),
    status,
    stocks_analyzed: signals.length,
    signals_generated: { buy: count('BUY'), sell: count('SELL'), hold: count('HOLD') },
    latest_signal_file: latestSignalFile,
    next_recommended_run: addCalendarDays(now.toISOString().slice(0, 10), 7),
    failures,
    degraded,
    stale: staleSignals.map((s) => ({ symbol: s.symbol, as_of: s.as_of, data_age_days: s.data_age_days })),
    without_skill: withoutSkill.map((s) => ({ symbol: s.symbol, shown: s.skill.shown, source: s.source, summary: s.skill.summary })),
    out_of_distribution: outOfDistribution.map((s) => ({ symbol: s.symbol, dissimilarity: s.dissimilarity })),
    notes,
    model_skill: modelSkill,
  };
  await writeAtomically(paths.statusFile, `${JSON.stringify(statusFile, null, 2)}\n`);
  await log(status === 'success' ? 'info' : 'warn', `weekly run ${stamp} ${status}: ${signals.length} signal(s), ${failures.length} failure(s), ${degraded.length > 0 ? `${degraded.length} corrupted model(s), ` : ''}${staleSignals.length} stale, ${withoutSkill.length} without shown skill`);

  return {
    status,
    total_stocks_analyzed: signals.length,
    signals,
    model_skill: modelSkill,
    stale_signals: staleSignals.map((s) => s.symbol),
    notes,
    retrained,
    not_retrained: notRetrained,
    failures,
    degraded,
    files_generated: { json_file: jsonFile, status_file: paths.statusFile, excel_file: excelFile, log_file: logFile },
  };
}
