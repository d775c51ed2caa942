/**
 * The weekly run's files, where a trading manager reads them: weekly_trading_signals/ (signals and
 * status JSON), result/ (Excel), logs/. Each file is written to a temporary name and renamed into place,
 * so a reader never sees half a file; the status file goes last, pointing at a complete signals file.
 */
import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Signal } from '../signals/signal.js';

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

/** The signals file (the original format; `ticker` kept beside `symbol` for readers written against it). */
export interface WeeklySignalsFile {
  timestamp: string;
  generation_time: string;
  model_type: 'weekly_lstm';
  prediction_horizon: string;
  total_stocks_analyzed: number;
  signals: Array<Signal & { ticker: string }>;
  failures: Array<{ symbol: string; error: string }>;
}

export interface WeeklyStatusFile {
  last_run: string;
  status: 'success' | 'partial' | 'failed';
  stocks_analyzed: number;
  signals_generated: { buy: number; sell: number; hold: number };
  latest_signal_file: string;
  next_recommended_run: string;
  failures: Array<{ symbol: string; error: string }>;
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
