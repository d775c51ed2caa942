/**
 * The weekly run's files, where a trading manager reads them: weekly_trading_signals/ (signals and
 * status JSON), result/ (Excel), logs/. Each file is written to a temporary name and renamed into place,
 * so a reader never sees half a file; the status file goes last, pointing at a complete signals file.
 */
import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Signal } from '../signals/signal.js';
import type { ModelSkill } from '../skill/model-skill.js';
import type { Interval } from '../skill/stats.js';

export interface WeeklyPaths {
  signalsDir: string;
  statusFile: string;
  resultDir: string;
  logDir: string;
}

export function weeklyPaths(outputDir: string): WeeklyPaths {
  const signalsDir = path.resolve(outputDir, 'weekly_trading_signals');
  return {
    signalsDir,
    statusFile: path.join(signalsDir, 'lstm_status.json'),
    resultDir: path.resolve(outputDir, 'result'),
    logDir: path.resolve(outputDir, 'logs'),
  };
}

/** `20250807_124530` in UTC: sortable, and the same on every machine. */
export function fileStamp(at: Date): string {
  return at.toISOString().replace(/\.\d+Z$/, '').replace(/-/g, '').replace(/:/g, '').replace('T', '_');
}

export async function writeAtomically(file: string, content: string | Buffer): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, content);
  await rename(temporary, file);
}

/**
 * What the symbol's forecasts have shown live: the backfilled predictions of the live set (what was served
 * and what the baselines said at the same sessions), with the calibration and the conformal levels' coverage.
 */
export interface WeeklyLiveSkill {
  /** Backfilled predictions scored (each FORECAST_DAYS sessions after it was made). */
  n: number;
  hit_rate: number;
  hit_rate_interval: Interval;
  /** The baseline with the highest hit rate on the same sessions. */
  best_baseline: { name: string; hit_rate: number; hit_rate_interval: Interval };
  brier_skill: number | null;
  ic: number | null;
  /** Expected calibration error of the served (calibrated) probability; null without scored predictions. */
  ece_calibrated: number | null;
  /** How often the close fell between stop_loss and take_profit, against the stated probability; null without conformal levels scored. */
  coverage_realised: number | null;
  coverage_nominal: number | null;
}

/** How well the forecaster behind a signal has done: its holdout measure and the live record. */
export interface WeeklyModelSkill {
  /** signal.skill.shown: passed the skill gate on its holdout (null: never measured). */
  shown: boolean | null;
  summary: string;
  /** signal.skill.measured: the holdout numbers (null for the base rate or an unmeasured forecaster). */
  holdout: ModelSkill | null;
  /** Null while nothing has been backfilled in the live set. */
  live: WeeklyLiveSkill | null;
}

export type WeeklySignal = Signal & { ticker: string; model_skill: WeeklyModelSkill };

/** The signals file (the original format; `ticker` kept beside `symbol` for readers written against it). */
export interface WeeklySignalsFile {
  timestamp: string;
  generation_time: string;
  model_type: 'weekly_lstm';
  prediction_horizon: string;
  total_stocks_analyzed: number;
  signals: WeeklySignal[];
  /** Symbols whose signal is stale (its as-of session more than signals.max_data_age_days before the run's clock). */
  stale_signals: string[];
  failures: Array<{ symbol: string; error: string }>;
}

export interface WeeklyStatusFile {
  last_run: string;
  /**
   * success even when signals are stale or unskilled: those are said in `stale`, `without_skill` and `notes`, not failures.
   * degraded: every symbol has its signal, but a current model could not be loaded (see `degraded`); partial: a symbol
   * failed; failed: no signal at all.
   */
  status: 'success' | 'degraded' | 'partial' | 'failed';
  stocks_analyzed: number;
  signals_generated: { buy: number; sell: number; hold: number };
  /** The latest signals file of any run (an earlier one when this run produced none); null before the first. */
  latest_signal_file: string | null;
  next_recommended_run: string;
  failures: Array<{ symbol: string; error: string }>;
  /** Current models whose stored bytes were missing or failed their checksum (retrained by the run); absent from files of 0.2.0 and earlier. */
  degraded: Array<{ symbol: string; version_id: string; reason: string }>;
  /** Signals of a session more than signals.max_data_age_days before the run. */
  stale: Array<{ symbol: string; as_of: string; data_age_days: number }>;
  /** Signals whose forecaster has not shown skill (skill.shown false, or null: never measured). */
  without_skill: Array<{ symbol: string; shown: boolean | null; source: Signal['source']; summary: string }>;
  /** Signals whose features lie outside what the model was trained on (confidence capped at 1). */
  out_of_distribution: Array<{ symbol: string; dissimilarity: number | null }>;
  /** The above in plain words, one line each. */
  notes: string[];
  /** Per symbol, how good its forecaster has been: as `model_skill` in the signals file (holdout skill and calibration, live record). */
  model_skill: Record<string, WeeklyModelSkill>;
}

/** "SPX is STALE: its latest session is 2020-04-17, 2420 days before the run (2026-12-02); …" — one plain line. */
export function staleNote(signal: Signal, now: Date, maxDataAgeDays: number): string {
  return (
    `${signal.symbol} is STALE: its latest session is ${signal.as_of}, ${signal.data_age_days} days before the run (${now.toISOString().slice(0, 10)}), ` +
    `so this is the signal of ${signal.as_of}, not of today (signals.max_data_age_days ${maxDataAgeDays})`
  );
}

/** Why a signal's forecaster is not known to be skilled, in one line; undefined when it has shown skill. */
export function skillNote(signal: Signal): string | undefined {
  if (signal.skill.shown === true) return undefined;
  if (signal.skill.shown === null || signal.source === 'base_rate') return `${signal.symbol}: ${signal.skill.summary}`;
  return `${signal.symbol}: ${signal.source} has not shown skill: ${signal.skill.summary}`;
}

/** One line for a signal out of the model's training distribution. */
export function outOfDistributionNote(signal: Signal, maxDissimilarity: number): string {
  const d = signal.dissimilarity === null ? 'not measured' : signal.dissimilarity.toFixed(2);
  return `${signal.symbol}: out of distribution (dissimilarity ${d}, above signals.max_dissimilarity ${maxDissimilarity}): the model has not seen such a market; confidence capped at 1`;
}

export async function readStatusFile(outputDir: string): Promise<WeeklyStatusFile | undefined> {
  try {
    return JSON.parse(await readFile(weeklyPaths(outputDir).statusFile, 'utf8')) as WeeklyStatusFile;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** The day's run log: one file per UTC day, appended to by every run that day. */
export function runLogFile(outputDir: string, at: Date): string {
  return path.join(weeklyPaths(outputDir).logDir, `weekly_runner_${fileStamp(at).slice(0, 8)}.log`);
}

export async function appendLogLine(file: string, line: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await appendFile(file, `${new Date().toISOString()} ${line}\n`);
}
