/**
 * The plugin factory: `createPlugin(config)` → `{ manifest, activate(host), deactivate() }`.
 * Everything activation adds (listeners, routes, timers, the database connection) is tracked and
 * undone by `deactivate`, so a host can reload the plugin without leaks.
 */
import semver from 'semver';
import { ingestBars } from './bar-ingestion.js';
import { resolveConfig, type PluginConfig, type PluginConfigInput } from './config.js';
import type { BarsIngestedEvent, PluginEvents } from './events.js';
import type { DailyBar } from './bar.js';
import type { Disposer, Host, PluginInstance } from './host.js';
import { manifest, type Manifest } from './manifest.js';
import { buildRoutes } from './routes.js';
import { BarStore } from './store/bar-store.js';
import { Store } from './store/store.js';
import { ModelRegistry } from './registry/model-registry.js';
import { initBackend } from './model/backend.js';
import { Trainer, type TrainOutcome, type TrainingMode } from './training/trainer.js';
import { updateAccuracy, type BackfillResult } from './accuracy/backfill.js';
import { Predictor, type PredictOptions, type Prediction } from './signals/predictor.js';
import { LIVE_SET } from './signals/prediction-log.js';
import { checkHealth, getLatestSignals, type LatestSignals, type SystemHealth } from './weekly/health.js';
import { runWeeklyAnalysis, type WeeklyRunOptions, type WeeklyRunResult } from './weekly/weekly-run.js';

export interface TrainCommand {
  symbol: string;
  mode: TrainingMode;
  /** What asked for it; `manual` for a person or an API call. */
  trigger?: string;
  start?: string;
  end?: string;
}

export interface LstmSignalsPlugin extends PluginInstance<Manifest> {
  readonly config: PluginConfig;
  /** The open store while active. */
  readonly store: Store | undefined;
  /** Resolves when every bar received so far has been stored. */
  idle(): Promise<void>;
  /** Trains one symbol on its stored bars, reporting on the host bus (`lstm:training:*`, `lstm:model:deployed`). */
  train(command: TrainCommand): Promise<TrainOutcome>;
  /** Forecasts, grades and logs one symbol at a stored session; emits `lstm:prediction` and `lstm:signal`. */
  predict(symbol: string, options?: PredictOptions): Promise<Prediction>;
  /** `update_accuracy(symbol, as_of)`: backfills the predictions whose fifth session has come. */
  updateAccuracy(symbol: string, asOf?: string, predictionSet?: string): Promise<BackfillResult>;
  /** The weekly run over the stored symbols: retrain where stale, predict, write the signal, status, Excel and log files. */
  runWeeklyAnalysis(options?: WeeklyRunOptions): Promise<WeeklyRunResult>;
  getLatestSignals(): Promise<LatestSignals>;
  checkHealth(): Promise<SystemHealth>;
}

export function createPlugin(input: PluginConfigInput = {}): LstmSignalsPlugin {
  const config = resolveConfig(input);
  let store: Store | undefined;
  let activeHost: Host | undefined;
  let predictor: Predictor | undefined;
  /** Symbols the plugin follows, and those the feed failed to deliver at activation, with why. */
  let followed: string[] = [];
  const feedErrors = new Map<string, string>();
  let disposers: Disposer[] = [];
  // Live bars are stored strictly in arrival order, one write at a time.
  let writes: Promise<void> = Promise.resolve();

  function emit<K extends keyof PluginEvents>(host: Host, event: K, payload: PluginEvents[K]): void {
    host.bus.emit(event, payload);
  }

  function active(): { store: Store; host: Host; predictor: Predictor } {
    if (!store || !activeHost || !predictor) throw new Error('lstm-signals is not active: activate it first');
    return { store, host: activeHost, predictor };
  }

  function announce(host: Host, prediction: Prediction, predictionSet: string): void {
    emit(host, 'lstm:prediction', { prediction_set: predictionSet, prediction_id: prediction.logged.id, created: prediction.created, forecast: prediction.forecast });
    emit(host, 'lstm:signal', { signal: prediction.signal });
  }

  return {
    manifest,
    config,
    get store() {
      return store;
    },
    idle: () => writes,

    async activate(host: Host) {
      if (store) throw new Error('lstm-signals is already active; deactivate it first');
      if (!semver.satisfies(host.apiVersion, manifest.hostApi)) {
        throw new Error(`lstm-signals needs host API ${manifest.hostApi}; this host offers ${host.apiVersion}`);
      }
      const opened = await Store.open({ url: config.db_url ?? process.env.LSTM_DB_URL, migrate: config.migrate_on_start });
      store = opened;
      activeHost = host;
      predictor = new Predictor(opened, config);
      const bars = new BarStore(opened);
      host.logger.info('lstm-signals: store open', { dialect: opened.dialect });
      await initBackend({ logger: host.logger });

      const symbols = config.symbols.length > 0 ? config.symbols : await host.bars.symbols();
      followed = symbols;
      for (const symbol of symbols) {
        let report: BarsIngestedEvent;
        try {
          report = await ingestBars(bars, symbol, await host.bars.history(symbol, {}), { strict: config.strict_bars, origin: 'history' });
        } catch (error) {
          // One symbol the feed cannot deliver must not keep the others from being followed.
          const reason = error instanceof Error ? error.message : String(error);
          feedErrors.set(symbol, reason);
          host.logger.error(`lstm-signals: ${symbol}: no bars from the feed: ${reason}`);
          report = { symbol, origin: 'history', rows: 0, inserted: 0, revised: 0, unchanged: 0, dropped: 0, rejected: false, problems: [], revisions: [], error: reason };
        }
        if (report.problems.length > 0) host.logger.warn(`lstm-signals: ${symbol}: ${report.dropped} bar(s) refused`, { problems: report.problems.length });
        emit(host, 'lstm:bars:ingested', report);
      }

      const following = new Set(symbols);
      const onBar = ({ bar }: { bar: DailyBar }) => {
        if (!following.has(bar.symbol)) return;
        writes = writes
          .then(async () => emit(host, 'lstm:bars:ingested', await ingestBars(bars, bar.symbol, [bar], { strict: config.strict_bars, origin: 'live' })))
          .catch((error: unknown) => host.logger.error(`lstm-signals: storing ${bar.symbol} ${bar.date} failed`, { error: String(error) }));
      };
      host.bus.on('host:bar', onBar);
      disposers.push(() => host.bus.off('host:bar', onBar));

      for (const route of buildRoutes({ bars })) disposers.push(host.registerRoute(route));
    },

    async deactivate() {
      for (const dispose of disposers.reverse()) dispose();
      disposers = [];
      await writes;
      predictor?.dispose();
      predictor = undefined;
      await store?.close();
      store = undefined;
      activeHost = undefined;
      followed = [];
      feedErrors.clear();
    },

    async predict(symbol, options = {}) {
      const { host, predictor } = active();
      const prediction = await predictor.predict(symbol, options);
      announce(host, prediction, options.predictionSet ?? LIVE_SET);
      return prediction;
    },

    updateAccuracy(symbol, asOf, predictionSet) {
      return updateAccuracy(active().store, symbol, asOf, predictionSet);
    },

    runWeeklyAnalysis(options = {}) {
      const { store, host } = active();
      return runWeeklyAnalysis(
        { store, config, logger: host.logger },
        {
          symbols: followed,
          unavailable: feedErrors,
          ...options,
          onTrainingProgress: (progress) => {
            emit(host, 'lstm:training:progress', progress);
            options.onTrainingProgress?.(progress);
          },
          onPrediction: (prediction) => {
            announce(host, prediction, LIVE_SET);
            options.onPrediction?.(prediction);
          },
        },
      );
    },

    getLatestSignals: () => getLatestSignals(config.weekly.output_dir),

    checkHealth() {
      return checkHealth(active().store, config);
    },

    async train(command: TrainCommand) {
      const { store, host } = active();
      const started = { symbol: command.symbol, mode: command.mode, trigger: command.trigger ?? 'manual' };
      const registry = new ModelRegistry(store);
      const previous = (await registry.currentVersionId(command.symbol)) ?? null;
      emit(host, 'lstm:training:started', started);
      try {
        const outcome = await new Trainer(store, host.logger).train({
          ...started,
          bars: await new BarStore(store).load(command.symbol),
          start: command.start,
          end: command.end,
          featureNames: config.feature_names,
          settings: config.training,
          onProgress: (progress) => emit(host, 'lstm:training:progress', progress),
        });
        emit(host, 'lstm:training:completed', {
          ...started,
          version_id: outcome.versionId,
          deployed: outcome.deployed,
          reason: outcome.reason,
          holdout: outcome.holdout ?? null,
          run_id: outcome.run.id,
          duration_seconds: outcome.run.duration_seconds,
        });
        if (outcome.deployed) {
          emit(host, 'lstm:model:deployed', { symbol: command.symbol, version_id: outcome.versionId, previous_version_id: previous, reason: outcome.reason });
        }
        return outcome;
      } catch (error) {
        emit(host, 'lstm:training:failed', { ...started, error: error instanceof Error ? error.message : String(error) });
        throw error;
      }
    },
  };
}
