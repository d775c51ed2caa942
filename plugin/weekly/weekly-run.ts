/**
 * The weekly run, what a trading manager calls: for each symbol, retrain when its model is missing or
 * stale (or when forced), predict, grade and log; then write the signals JSON, the status JSON, the Excel
 * report and the run log. One failing symbol is reported and never stops the others.
 */
import path from 'node:path';
import { addCalendarDays, calendarDaysBetween } from '../calendar.js';
import type { PluginConfig } from '../config.js';
import { buildFeatureFrame, FEATURE_HISTORY, type FeatureName } from '../features/frame.js';
import type { Logger } from '../host.js';
import { ModelRegistry } from '../registry/model-registry.js';
import { Predictor, type Prediction } from '../signals/predictor.js';
import type { Signal } from '../signals/signal.js';
import { BarStore } from '../store/bar-store.js';
import type { Store } from '../store/store.js';
import { Trainer, type TrainingProgress } from '../training/trainer.js';
import { writeExcelReport, type ReportRow } from './excel-report.js';
import {
  appendLogLine,
  fileStamp,
  runLogFile,
  weeklyPaths,
  writeAtomically,
  type WeeklySignalsFile,
  type WeeklyStatusFile,
} from './output-files.js';

export interface WeeklyRunOptions {
  forceRetrain?: boolean;
  /** Default: every symbol with stored bars. */
  symbols?: string[];
  /** Symbols the bar feed could not deliver, with why: reported as failures without trying them. */
  unavailable?: ReadonlyMap<string, string>;
  /** The run's wall-clock time, for file names and `generation_time`. */
  now?: Date;
  onTrainingProgress?: (progress: TrainingProgress) => void;
  onPrediction?: (prediction: Prediction) => void;
}

export interface WeeklyRunResult {
  status: WeeklyStatusFile['status'];
  total_stocks_analyzed: number;
  signals: Signal[];
  retrained: Array<{ symbol: string; version_id: string; deployed: boolean; reason: string }>;
  failures: Array<{ symbol: string; error: string }>;
  files_generated: { json_file: string; status_file: string; excel_file: string; log_file: string };
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

export async function runWeeklyAnalysis(
  deps: { store: Store; config: PluginConfig; logger: Logger },
  options: WeeklyRunOptions = {},
): Promise<WeeklyRunResult> {
  const { store, config } = deps;
  const now = options.now ?? new Date();
  const stamp = fileStamp(now);
  const paths = weeklyPaths(config.weekly.output_dir);
  const logFile = runLogFile(config.weekly.output_dir, now);
  const log = async (level: 'info' | 'warn' | 'error', line: string) => {
    deps.logger[level](line);
    await appendLogLine(logFile, `${level.toUpperCase()} ${line}`);
  };

  const bars = new BarStore(store);
  const registry = new ModelRegistry(store);
  const trainer = new Trainer(store, deps.logger);
  const predictor = new Predictor(store, config);
  const symbols = options.symbols ?? (await bars.coverage()).map((c) => c.symbol);
  await log('info', `weekly run ${stamp}: ${symbols.length} symbol(s)${options.forceRetrain ? ', forced retraining' : ''}`);

  const rows: ReportRow[] = [];
  const retrained: WeeklyRunResult['retrained'] = [];
  const failures: WeeklyRunResult['failures'] = [];
  try {
    for (const symbol of symbols) {
      try {
        const unavailable = options.unavailable?.get(symbol);
        if (unavailable) throw new Error(`${symbol}: no bars from the feed: ${unavailable}`);
        const history = await bars.load(symbol);
        if (history.length === 0) throw new Error(`${symbol}: no stored bars`);
        const asOf = history[history.length - 1]!.date;
        const current = await registry.current(symbol);
        const age = current ? calendarDaysBetween(current.data_end, asOf) : undefined;
        if (options.forceRetrain || age === undefined || age > config.weekly.cache_days) {
          const why = options.forceRetrain ? 'forced' : age === undefined ? 'no model' : `model data ${age} days old`;
          await log('info', `${symbol}: retraining (${why}), ${config.weekly.training_mode} mode`);
          try {
            const outcome = await trainer.train({
              symbol,
              bars: history,
              mode: config.weekly.training_mode,
              trigger: 'weekly_run',
              start: history[Math.max(0, history.length - config.weekly.lookback_sessions)]!.date,
              featureNames: config.feature_names,
              settings: config.training,
              ...(options.onTrainingProgress && { onProgress: options.onTrainingProgress }),
            });
            retrained.push({ symbol, version_id: outcome.versionId, deployed: outcome.deployed, reason: outcome.reason });
            await log('info', `${symbol}: ${outcome.versionId} ${outcome.deployed ? 'deployed' : 'not deployed'}: ${outcome.reason}`);
          } catch (error) {
            // The prediction still runs: an older model or the fallback chain may answer.
            await log('warn', `${symbol}: retraining failed: ${message(error)}`);
          }
        }
        const prediction = await predictor.predictFromBars(symbol, history);
        options.onPrediction?.(prediction);
        const { signal } = prediction;
        // The report shows the last session's indicators: they need only the recent history (FEATURE_HISTORY).
        const frame = buildFeatureFrame(history.slice(-(FEATURE_HISTORY + 1)), config.feature_names as FeatureName[]);
        const lastRow = frame.rows[frame.rows.length - 1] ?? [];
        rows.push({ signal, indicators: Object.fromEntries(frame.featureNames.map((name, i) => [name, lastRow[i]!])) });
        await log('info', `${symbol}: ${signal.grade} (confidence ${signal.confidence}, ${signal.source}) as of ${signal.as_of}`);
      } catch (error) {
        const text = message(error).startsWith(`${symbol}:`) ? message(error) : `${symbol}: ${message(error)}`;
        failures.push({ symbol, error: text });
        await log('error', text);
      }
    }
  } finally {
    predictor.dispose();
  }

  const signals = rows.map((r) => r.signal);
  const status: WeeklyStatusFile['status'] = failures.length === 0 ? 'success' : signals.length > 0 ? 'partial' : 'failed';
  const jsonFile = path.join(paths.signalsDir, `weekly_signals_${stamp}.json`);
  const excelFile = path.join(paths.resultDir, `lstm_weekly_report_${stamp}.xlsx`);
  const signalsFile: WeeklySignalsFile = {
    timestamp: stamp,
    generation_time: now.toISOString(),
    model_type: 'weekly_lstm',
    prediction_horizon: `${signals[0]?.horizon ?? 5}_days`,
    total_stocks_analyzed: signals.length,
    signals: signals.map((s) => ({ ticker: s.symbol, ...s })),
    failures,
  };
  await writeAtomically(jsonFile, `${JSON.stringify(signalsFile, null, 2)}\n`);
  await writeExcelReport(excelFile, rows);
  const count = (action: Signal['action']) => signals.filter((s) => s.action === action).length;
  const statusFile: WeeklyStatusFile = {
    last_run: now.toISOString(),
    status,
    stocks_analyzed: signals.length,
    signals_generated: { buy: count('BUY'), sell: count('SELL'), hold: count('HOLD') },
    latest_signal_file: jsonFile,
    next_recommended_run: addCalendarDays(now.toISOString().slice(0, 10), 7),
    failures,
  };
  await writeAtomically(paths.statusFile, `${JSON.stringify(statusFile, null, 2)}\n`);
  await log(status === 'success' ? 'info' : 'warn', `weekly run ${stamp} ${status}: ${signals.length} signal(s), ${failures.length} failure(s)`);

  return {
    status,
    total_stocks_analyzed: signals.length,
    signals,
    retrained,
    failures,
    files_generated: { json_file: jsonFile, status_file: paths.statusFile, excel_file: excelFile, log_file: logFile },
  };
}
