/** System health and the latest signals, as a trading manager asks for them. */
import { readFile } from 'node:fs/promises';
import type { PluginConfig } from '../config.js';
import { checkModelHealth, type ModelHealth } from '../forecasting/lstm-forecaster.js';
import { initBackend, type BackendInfo } from '../model/backend.js';
import { ModelRegistry } from '../registry/model-registry.js';
import { TrainingLog } from '../registry/training-log.js';
import { BarStore } from '../store/bar-store.js';
import type { Store } from '../store/store.js';
import { readStatusFile, type WeeklySignalsFile, type WeeklyStatusFile } from './output-files.js';

export interface SymbolHealth extends ModelHealth {
  symbol: string;
  last_bar: string;
  /** Training failures recorded since the current model was trained (all of them when there is none). */
  training_failures: number;
}

export interface SystemHealth {
  healthy: boolean;
  checked_at: string;
  backend: BackendInfo;
  last_run: WeeklyStatusFile | null;
  symbols: SymbolHealth[];
  /** Every reason the system is not healthy. */
  problems: string[];
}

export async function checkHealth(store: Store, config: PluginConfig): Promise<SystemHealth> {
  const registry = new ModelRegistry(store);
  const symbols: SymbolHealth[] = [];
  for (const { symbol, last } of await new BarStore(store).coverage()) {
    const health = await checkModelHealth(registry, symbol, last, config.max_days_without_training);
    const since = (await registry.current(symbol))?.training_time;
    const training_failures = await new TrainingLog(store).countFailuresSince(symbol, since);
    symbols.push({ symbol, last_bar: last, training_failures, ...health });
  }
  const lastRun = (await readStatusFile(config.weekly.output_dir)) ?? null;
  const problems = [
    ...(symbols.length === 0 ? ['no symbols have stored bars'] : []),
    ...symbols.filter((s) => !s.healthy).map((s) => s.reason),
    ...(lastRun && lastRun.status !== 'success' ? [`last weekly run ${lastRun.last_run} was ${lastRun.status}`] : []),
  ];
  return { healthy: problems.length === 0, checked_at: new Date().toISOString(), backend: await initBackend(), last_run: lastRun, symbols, problems };
}

export type LatestSignals =
  | { status: 'success'; signal_file: string; signals: WeeklySignalsFile }
  | { status: 'no_signals'; message: string };

/** The signals of the latest weekly run, found through the status file as the original's readers do. */
export async function getLatestSignals(outputDir: string): Promise<LatestSignals> {
  const status = await readStatusFile(outputDir);
  if (!status) return { status: 'no_signals', message: `no weekly run has written ${outputDir}/weekly_trading_signals/lstm_status.json yet` };
  return { status: 'success', signal_file: status.latest_signal_file, signals: JSON.parse(await readFile(status.latest_signal_file, 'utf8')) as WeeklySignalsFile };
}
