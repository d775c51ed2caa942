/**
 * One measured weekly run, alone in its process (spawned by bench/weekly-universe.ts): the plugin on the
 * standalone host over an already-ingested database. With `--data DIR` the host serves that CSV folder, so
 * activation re-ingests it as `lstm-signals weekly --data DIR` does; without, the host has no feed and the run
 * covers the stored symbols. `--mode cached`: the models are fresh, so the run only predicts. `--mode
 * incremental`: first every symbol is fine-tuned incrementally (the weekly run itself only retrains in
 * weekly.training_mode, full or fast), then the weekly run, which finds every model fresh.
 *
 *   node --import tsx bench/support/weekly-run-child.ts --db sqlite:FILE --config FILE --mode cached|incremental [--data DIR]
 */
import { parseArgs } from 'node:util';
import { CsvBarSource } from '../../adapters/bars/csv.js';
import { withPlugin } from '../../adapters/standalone/plugin-session.js';
import { currentBackend, type LstmSignalsPlugin } from '../../plugin/index.js';
import { log, reportToParent, timed } from './process.js';

export interface WeeklyChildReport {
  mode: 'cached' | 'incremental';
  backend: string;
  symbols: number;
  /** createPlugin + activate: read the config, open the store, check migrations, load the backend (and re-ingest `--data`). */
  activateSeconds: number;
  /** The incremental trainings alone (0 in cached mode). */
  trainSeconds: number;
  /** Windows × epochs fitted by the incremental trainings. */
  trainedSamples: number;
  /** `runWeeklyAnalysis` alone. */
  runSeconds: number;
  status: string;
  signals: number;
  failures: number;
  /** Symbols the weekly run itself retrained (expected 0 in both modes). */
  retrainedByRun: number;
  lstmSignals: number;
}

const { values } = parseArgs({ options: { db: { type: 'string' }, config: { type: 'string' }, mode: { type: 'string' }, data: { type: 'string' } } });
if (!values.db || !values.config || (values.mode !== 'cached' && values.mode !== 'incremental')) {
  throw new Error('usage: weekly-run-child.ts --db URL --config FILE --mode cached|incremental [--data DIR]');
}
const mode = values.mode;

/** Fine-tunes every symbol as the weekly trigger does; returns the samples fitted. */
async function trainIncrementally(plugin: LstmSignalsPlugin, symbols: readonly string[]): Promise<number> {
  const { incremental_sessions, incremental_epochs } = plugin.config.training;
  for (const symbol of symbols) {
    const outcome = await plugin.train({ symbol, mode: 'incremental', trigger: 'weekly' });
    log(`${symbol}: ${outcome.versionId} (${outcome.run.duration_seconds?.toFixed(1)} s)`);
  }
  // Every bench symbol has far more labelled windows than incremental_sessions, so each fits exactly that many.
  return symbols.length * incremental_sessions * incremental_epochs;
}

const activateStart = performance.now();
const source = values.data ? new CsvBarSource(values.data, { strict: true }) : undefined;
const report = await withPlugin({ db: values.db, configFile: values.config, logLevel: 'warn', ...(source && { source }) }, async (plugin): Promise<WeeklyChildReport> => {
  const activateSeconds = (performance.now() - activateStart) / 1000;
  const symbols = (await plugin.barCoverage()).map((c) => c.symbol);
  const training = mode === 'incremental' ? await timed(() => trainIncrementally(plugin, symbols)) : { value: 0, seconds: 0 };
  const run = await timed(() => plugin.runWeeklyAnalysis());
  return {
    mode,
    backend: currentBackend()?.name ?? 'unknown',
    symbols: symbols.length,
    activateSeconds,
    trainSeconds: training.seconds,
    trainedSamples: training.value,
    runSeconds: run.seconds,
    status: run.value.status,
    signals: run.value.signals.length,
    failures: run.value.failures.length,
    retrainedByRun: run.value.retrained.length,
    lstmSignals: run.value.signals.filter((s) => s.source === 'lstm').length,
  };
});
reportToParent(report);
