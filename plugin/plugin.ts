/**
 * The plugin factory: `createPlugin(config)` → `{ manifest, activate(host), deactivate() }`.
 * Everything activation adds (listeners, routes, the training queue and its child processes, alert
 * deliveries, the database connection) is tracked and undone by `deactivate`, so a host can reload the
 * plugin without leaks.
 */
import semver from 'semver';
import { updateAccuracy, type BackfillResult } from './accuracy/backfill.js';
import { ingestBars } from './bar-ingestion.js';
import type { DailyBar } from './bar.js';
import { utcDate } from './calendar.js';
import { resolveConfig, type PluginConfig, type PluginConfigInput } from './config.js';
import type { BarsIngestedEvent, PluginEvents, TrainingStartedEvent } from './events.js';
import type { Disposer, Host, PluginInstance } from './host.js';
import { manifest, type Manifest } from './manifest.js';
import { initBackend } from './model/backend.js';
import { LstmModel, type ModelMetadata } from './model/lstm-model.js';
import { activeAlerts } from './monitoring/alert-input.js';
import { AlertService, deliverySettingsFromConfig } from './monitoring/alert-service.js';
import type { AlertCandidate } from './monitoring/alert-rules.js';
import { calibrationReport, type CalibrationReport } from './monitoring/calibration.js';
import { checkDecay, type DecayResult } from './monitoring/decay.js';
import { decaySettings, monitoringStatus, type MonitoringStatus } from './monitoring/status.js';
import type { WorkingQueue } from './queue/job-table.js';
import { openTrainingQueue } from './queue/queue-engine.js';
import { type QueueState, type TrainingJobRequest, type TrainingQueueEvent, type TrainingSummary } from './queue/training-queue.js';
import { ModelRegistry } from './registry/model-registry.js';
import { TrainingLog } from './registry/training-log.js';
import { buildRoutes } from './routes.js';
import { PANEL } from './panel/panel-routes.js';
import { processSession, type SessionReport } from './runtime/session-runner.js';
import { LIVE_SET, PredictionLog } from './signals/prediction-log.js';
import { Predictor, type PredictOptions, type Prediction } from './signals/predictor.js';
import { BarStore } from './store/bar-store.js';
import type { AlertRow, ModelVersionRow, PredictionLogRow, TrainingJobRow, TrainingRunRow } from './store/entities.js';
import { Store } from './store/store.js';
import { skillReport, type SkillReport } from './skill/skill-report.js';
import { plotData as buildPlotData, type PlotData } from './training/plot-data.js';
import type { HoldoutMetrics } from './training/metrics.js';
import type { TrainOutcome, TrainingMode, TrainingProgress } from './training/trainer.js';
import { checkTriggers, type TriggerCheck } from './triggers/trigger-check.js';
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

/** A symbol's kept model versions (newest first, without their bytes) and which one is current. */
export interface SymbolVersions {
  symbol: string;
  current_version_id: string | null;
  versions: Array<ModelVersionRow & { current: boolean }>;
}

export interface LstmSignalsPlugin extends PluginInstance<Manifest> {
  readonly config: PluginConfig;
  /** The open store while active. */
  readonly store: Store | undefined;
  /** Resolves when every bar and every session close received so far has been processed. */
  idle(): Promise<void>;
  /** Resolves when no training this plugin queued is waiting or running. */
  trainingIdle(): Promise<void>;
  /** Trains one symbol now, in this process, reporting on the host bus (`lstm:training:*`, `lstm:model:deployed`). */
  train(command: TrainCommand): Promise<TrainOutcome>;
  /** Queues a training (off the signal path); returns the queued job at once. */
  enqueueTraining(request: TrainingJobRequest): Promise<TrainingJobRow>;
  queueState(): Promise<QueueState>;
  /** A failed job queued again, through whichever engine runs the queue (see TrainingQueue.retry). */
  retryTraining(id: number): Promise<TrainingJobRow>;
  /** A queued job cancelled, or a running one asked to stop (see TrainingQueue.cancel). */
  cancelTraining(id: number): Promise<TrainingJobRow>;
  /** Forecasts, grades and logs one symbol at a stored session; emits `lstm:prediction` and `lstm:signal`. */
  predict(symbol: string, options?: PredictOptions): Promise<Prediction>;
  /** `update_accuracy(symbol, as_of)`: backfills the predictions whose fifth session has come. */
  updateAccuracy(symbol: string, asOf?: string, predictionSet?: string): Promise<BackfillResult>;
  /** `check_triggers`: report what each symbol's latest session asks for; with `run`, record it and queue the training. */
  checkTriggers(options: { symbol?: string; run: boolean }): Promise<Array<TriggerCheck & { job_id: number | null }>>;
  /** Performance decay of a symbol's live predictions; `log` stores the check. */
  detectDecay(symbol: string, options?: { multiplier?: number; nRecent?: number; log?: boolean }): Promise<DecayResult>;
  /**
   * The active alerts of every followed symbol; with `fire`, the pending alerts that are due re-sent first
   * (`resent`: every alert pending when it was called), then the active ones stored and sent to the webhook,
   * in the background — or, with `waitForDelivery`, returned once each delivery has delivered or made its
   * retries (rows re-read).
   */
  alerts(options: { fire: boolean; waitForDelivery?: boolean }): Promise<{ active: AlertCandidate[]; fired: AlertRow[]; resent: AlertRow[] }>;
  monitoringStatus(): Promise<MonitoringStatus<QueueState>>;
  calibration(predictionSet?: string): Promise<CalibrationReport>;
  /** A symbol's skill against the baselines: at its latest training (out-of-fold, holdout) and live in a prediction set (default the configured one). */
  skill(symbol: string, predictionSet?: string): Promise<SkillReport>;
  /** Sets a symbol's current model back to a kept version; emits `lstm:model:rolled-back`. */
  rollback(symbol: string, versionId: string): Promise<{ previous_version_id: string | null }>;
  /** The weekly run over the followed symbols: retrain where stale, predict, write the signal, status, Excel and log files. */
  runWeeklyAnalysis(options?: WeeklyRunOptions): Promise<WeeklyRunResult>;
  getLatestSignals(): Promise<LatestSignals>;
  checkHealth(): Promise<SystemHealth>;
  /** Stored bars per symbol: first and last session, and how many. */
  barCoverage(): ReturnType<BarStore['coverage']>;
  /** A training job's row and the last progress it reported while this plugin ran it; undefined for no such job. */
  trainingJob(id: number): Promise<{ job: TrainingJobRow; progress: TrainingProgress | null } | undefined>;
  /** Training runs, newest first (default the last 50). */
  trainingRuns(options?: { symbol?: string; limit?: number }): Promise<TrainingRunRow[]>;
  /** Every stored symbol's versions, or only `symbol`'s. */
  modelVersions(symbol?: string): Promise<SymbolVersions[]>;
  /** Predicted vs actual of the symbol's current model over its stored bars (last `years`); undefined without a current model. */
  plotData(symbol: string, years: number): Promise<PlotData | undefined>;
  /** The newest logged prediction of each symbol in the configured prediction set. */
  latestPredictions(): Promise<PredictionLogRow[]>;
}

/** What exists only while the plugin is active. */
interface Runtime {
  host: Host;
  store: Store;
  predictor: Predictor;
  queue: WorkingQueue;
  alerts: AlertService;
  /** Symbols followed, and those the feed failed to deliver at activation, with why. */
  followed: string[];
  feedErrors: Map<string, string>;
  disposers: Disposer[];
  /** Live bars and session closes are processed strictly in arrival order, one at a time. */
  work: Promise<void>;
}

/** A finished job as the trainer's outcome: what its run row recorded. A failed job's error is thrown. */
async function jobOutcome(store: Store, job: TrainingJobRow): Promise<TrainOutcome> {
  if (job.status !== 'succeeded' || job.run_id === null || job.version_id === null) throw new Error(job.error ?? `training job ${job.id} ${job.status}`);
  const run = await store.repos.trainingRun.findOneByOrFail({ id: job.run_id });
  const importance = run.metrics_json?.importance as TrainOutcome['importance'];
  return {
    run,
    versionId: job.version_id,
    deployed: Boolean(run.validation_deployed),
    reason: run.validation_reason ?? '',
    ...(run.holdout_metrics_json && { holdout: run.holdout_metrics_json as unknown as HoldoutMetrics }),
    ...(importance && { importance }),
  };
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** The host's clock, or the wall clock for a host without one. */
const clock = (host: Host) => host.now?.() ?? new Date();

export function createPlugin(input: PluginConfigInput = {}): LstmSignalsPlugin {
  const config = resolveConfig(input);
  let runtime: Runtime | undefined;

  function emit<K extends keyof PluginEvents>(host: Host, event: K, payload: PluginEvents[K]): void {
    host.bus.emit(event, payload);
  }

  function active(): Runtime {
    if (!runtime) throw new Error('lstm-signals is not active: activate it first');
    return runtime;
  }

  /** Runs `task` after everything queued before it; a failure is logged, never breaks the chain. */
  function serialize(rt: Runtime, what: string, task: () => Promise<void>): void {
    rt.work = rt.work.then(task).catch((error: unknown) => rt.host.logger.error(`lstm-signals: ${what} failed: ${message(error)}`));
  }

  function announce(host: Host, prediction: Prediction, predictionSet: string): void {
    emit(host, 'lstm:prediction', { prediction_set: predictionSet, prediction_id: prediction.logged.id, created: prediction.created, forecast: prediction.forecast });
    emit(host, 'lstm:signal', { signal: prediction.signal });
  }

  function forwardQueueEvent(host: Host, event: TrainingQueueEvent): void {
    const started = { symbol: event.job.symbol, mode: event.job.training_type as TrainingMode, trigger: event.job.trigger_type };
    if (event.type === 'started') emit(host, 'lstm:training:started', started);
    else if (event.type === 'progress') emit(host, 'lstm:training:progress', event.progress);
    else if (event.type === 'failed') emit(host, 'lstm:training:failed', { ...started, error: event.error });
    else announceTrained(host, started, event.summary);
  }

  function announceTrained(host: Host, started: TrainingStartedEvent, { previous_version_id, ...summary }: TrainingSummary): void {
    emit(host, 'lstm:training:completed', { ...started, ...summary });
    if (summary.deployed) emit(host, 'lstm:model:deployed', { symbol: started.symbol, version_id: summary.version_id, previous_version_id, reason: summary.reason });
  }

  /** Validation settings for bars arriving now: later than the host's today is the future. */
  const barChecks = (host: Host) => ({ strict: config.strict_bars, today: utcDate(clock(host)), rules: config.bars });

  async function ingestHistory(host: Host, bars: BarStore, symbols: readonly string[], feedErrors: Map<string, string>): Promise<void> {
    for (const symbol of symbols) {
      let report: BarsIngestedEvent;
      try {
        report = await ingestBars(bars, symbol, await host.bars.history(symbol, {}), { ...barChecks(host), origin: 'history' });
      } catch (error) {
        // One symbol the feed cannot deliver must not keep the others from being followed.
        feedErrors.set(symbol, message(error));
        host.logger.error(`lstm-signals: ${symbol}: no bars from the feed: ${message(error)}`);
        report = { symbol, origin: 'history', rows: 0, inserted: 0, revised: 0, unchanged: 0, dropped: 0, rejected: false, problems: [], revisions: [], error: message(error) };
      }
      if (report.problems.length > 0) host.logger.warn(`lstm-signals: ${symbol}: ${report.dropped} bar(s) refused`, { problems: report.problems.length });
      emit(host, 'lstm:bars:ingested', report);
    }
  }

  /**
   * Fetches again from the host the bars since the symbol's last stored bar before `session`: a live bar lost while
   * the database was unavailable (or a session this process never heard of) is stored before the session is
   * processed. The host's clock bounds what it returns, so this never looks ahead.
   */
  async function resyncBars(host: Host, bars: BarStore, symbols: readonly string[], session: string): Promise<void> {
    for (const symbol of symbols) {
      try {
        const from = await bars.lastDateBefore(symbol, session);
        const report = await ingestBars(bars, symbol, await host.bars.history(symbol, { ...(from && { from }), to: session }), { ...barChecks(host), origin: 'history' });
        if (report.inserted + report.revised + report.dropped > 0) emit(host, 'lstm:bars:ingested', report);
      } catch (error) {
        // The session's own run reports what is missing; one symbol's feed must not hold up the others.
        host.logger.error(`lstm-signals: session ${session}: ${symbol}: could not fetch bars again: ${message(error)}`);
      }
    }
  }

  const plugin: LstmSignalsPlugin = {
    manifest,
    config,
    get store() {
      return runtime?.store;
    },
    idle: async () => {
      await runtime?.work;
    },
    trainingIdle: async () => {
      await runtime?.queue.onIdle();
    },

    async activate(host: Host) {
      if (runtime) throw new Error('lstm-signals is already active; deactivate it first');
      if (!semver.satisfies(host.apiVersion, manifest.hostApi)) {
        throw new Error(`lstm-signals needs host API ${manifest.hostApi}; this host offers ${host.apiVersion}`);
      }
      const url = config.db_url ?? process.env.LSTM_DB_URL;
      const store = await Store.open({ url, migrate: config.migrate_on_start, timeouts: config.db_timeouts });
      host.logger.info('lstm-signals: store open', { dialect: store.dialect });
      await initBackend({ logger: host.logger });
      const bars = new BarStore(store);
      // Followed: the configured symbols, else the feed's, else (a host with no feed) those already stored.
      const fromFeed = config.symbols.length > 0 ? config.symbols : await host.bars.symbols();
      const symbols = fromFeed.length > 0 ? fromFeed : (await bars.coverage()).map((c) => c.symbol);
      const feedErrors = new Map<string, string>();
      await ingestHistory(host, bars, fromFeed, feedErrors);

      const rt: Runtime = {
        host,
        store,
        predictor: new Predictor(store, config, () => clock(host)),
        queue: await openTrainingQueue({
          store,
          databaseUrl: url,
          config,
          runner: url?.includes(':memory:') ? 'inline' : config.triggers.runner,
          logger: host.logger,
          onEvent: (event) => forwardQueueEvent(host, event),
        }),
        alerts: new AlertService(store, deliverySettingsFromConfig(config), host.logger, {
          now: () => clock(host),
          announce: (alert) => emit(host, 'lstm:alert', { alert }),
        }),
        followed: symbols,
        feedErrors,
        disposers: [],
        work: Promise.resolve(),
      };
      runtime = rt;
      // Alerts this or another process stored but could not deliver yet: now, and whenever one is due.
      rt.alerts.start();
      // Queued trainings, this process's and others', unless worker processes run them (queue.run_jobs false).
      if (config.queue.run_jobs) rt.queue.startWorking();

      const following = new Set(symbols);
      const onBar = ({ bar }: { bar: DailyBar }) => {
        if (!following.has(bar.symbol)) return;
        serialize(rt, `storing ${bar.symbol} ${bar.date}`, async () => {
          emit(host, 'lstm:bars:ingested', await ingestBars(bars, bar.symbol, [bar], { ...barChecks(host), origin: 'live' }));
        });
      };
      const onSessionClosed = ({ session, nextSession }: { session: string; nextSession?: string }) => {
        serialize(rt, `session ${session}`, async () => {
          await resyncBars(host, bars, symbols, session);
          const report = await processSession(
            {
              store,
              config,
              logger: host.logger,
              predictor: rt.predictor,
              queue: rt.queue,
              alerts: rt.alerts,
              predictionSet: config.prediction_set,
              announce: (prediction) => announce(host, prediction, config.prediction_set),
            },
            symbols,
            session,
            nextSession,
          );
          emit(host, 'lstm:session:processed', report);
          await rt.alerts.deliverDue();
        });
      };
      host.bus.on('host:bar', onBar);
      host.bus.on('host:session-closed', onSessionClosed);
      rt.disposers.push(
        () => host.bus.off('host:bar', onBar),
        () => host.bus.off('host:session-closed', onSessionClosed),
      );
      for (const route of buildRoutes(plugin)) rt.disposers.push(host.registerRoute(route));
      rt.disposers.push(host.registerPanel(PANEL));
    },

    async deactivate() {
      const rt = runtime;
      if (!rt) return;
      for (const dispose of rt.disposers.reverse()) dispose();
      await rt.work;
      await rt.queue.close();
      await rt.alerts.close();
      rt.predictor.dispose();
      await rt.store.close();
      runtime = undefined;
    },

    async predict(symbol, options = {}) {
      const rt = active();
      const predictionSet = options.predictionSet ?? config.prediction_set;
      const prediction = await rt.predictor.predict(symbol, { ...options, predictionSet });
      announce(rt.host, prediction, predictionSet);
      return prediction;
    },

    updateAccuracy(symbol, asOf, predictionSet) {
      return updateAccuracy(active().store, symbol, asOf, predictionSet, { arimaBaseline: config.training.arima_baseline });
    },

    enqueueTraining(request) {
      return active().queue.enqueue(request);
    },

    queueState() {
      return active().queue.state();
    },

    retryTraining(id) {
      return active().queue.retry(id);
    },

    cancelTraining(id) {
      return active().queue.cancel(id);
    },

    async checkTriggers({ symbol, run }) {
      const rt = active();
      const results = [];
      for (const s of symbol ? [symbol] : rt.followed) {
        const check = await checkTriggers(rt.store, config, s, { record: run });
        let jobId: number | null = null;
        if (run && check.trigger && check.mode && check.recorded) {
          jobId = (await rt.queue.enqueue({ symbol: s, mode: check.mode, trigger: check.trigger, session: check.session })).id;
          await rt.store.repos.triggerDecision.update({ id: check.recorded.id }, { job_id: jobId });
        }
        results.push({ ...check, job_id: jobId });
      }
      return results;
    },

    detectDecay(symbol, options = {}) {
      const settings = decaySettings(config);
      return checkDecay(
        active().store,
        symbol,
        { ...settings, ...(options.multiplier && { multiplier: options.multiplier }), ...(options.nRecent && { nRecent: options.nRecent }) },
        { log: Boolean(options.log) },
      );
    },

    async alerts({ fire, waitForDelivery }) {
      const rt = active();
      const candidates: AlertCandidate[] = [];
      for (const symbol of rt.followed) {
        const last = (await new BarStore(rt.store).load(symbol)).at(-1)?.date;
        if (!last) continue;
        candidates.push(...(await activeAlerts(rt.store, config, symbol, last, await checkDecay(rt.store, symbol, decaySettings(config)))));
      }
      if (!fire) return { active: candidates, fired: [], resent: [] };
      // What is due goes first: an alert delivered now is not sent again by this firing within the cool-down.
      let resent = await rt.store.repos.alert.find({ where: { delivery_status: 'pending' }, order: { id: 'ASC' } });
      await rt.alerts.deliverDue();
      if (waitForDelivery) await rt.alerts.idle();
      let fired = await rt.alerts.fire(candidates);
      if (waitForDelivery) {
        await rt.alerts.idle();
        const reread = (rows: AlertRow[]) => (rows.length === 0 ? [] : rt.store.repos.alert.find({ where: rows.map((a) => ({ id: a.id })), order: { id: 'ASC' } }));
        [fired, resent] = [await reread(fired), await reread(resent)];
      }
      return { active: candidates, fired, resent };
    },

    async monitoringStatus() {
      const rt = active();
      return monitoringStatus(rt.store, config, await rt.queue.state());
    },

    calibration(predictionSet = config.prediction_set) {
      return calibrationReport(active().store, predictionSet);
    },

    skill(symbol, predictionSet = config.prediction_set) {
      return skillReport(active().store, symbol, predictionSet);
    },

    async rollback(symbol, versionId) {
      const rt = active();
      const previous = (await new ModelRegistry(rt.store).promote(symbol, versionId)) ?? null;
      emit(rt.host, 'lstm:model:rolled-back', { symbol, version_id: versionId, previous_version_id: previous });
      return { previous_version_id: previous };
    },

    runWeeklyAnalysis(options = {}) {
      const rt = active();
      return runWeeklyAnalysis(
        {
          store: rt.store,
          config,
          logger: rt.host.logger,
          alerts: rt.alerts,
          train: async (request) => jobOutcome(rt.store, await rt.queue.finished((await rt.queue.enqueue(request)).id)),
        },
        {
          symbols: rt.followed,
          now: clock(rt.host),
          unavailable: rt.feedErrors,
          ...options,
          onPrediction: (prediction) => {
            announce(rt.host, prediction, LIVE_SET);
            options.onPrediction?.(prediction);
          },
        },
      );
    },

    getLatestSignals: () => getLatestSignals(config.weekly.output_dir),

    checkHealth() {
      const rt = active();
      return checkHealth(rt.store, config, { now: clock(rt.host) });
    },

    async train(command: TrainCommand) {
      const rt = active();
      const { symbol, mode, start, end } = command;
      const job = await rt.queue.enqueue({ symbol, mode, trigger: command.trigger ?? 'manual', ...(start && { start }), ...(end && { end }) });
      return jobOutcome(rt.store, await rt.queue.finished(job.id));
    },

    barCoverage() {
      return new BarStore(active().store).coverage();
    },

    async trainingJob(id) {
      const rt = active();
      const job = await rt.store.repos.trainingJob.findOneBy({ id });
      return job ? { job, progress: (job.progress_json as unknown as TrainingProgress | null) ?? null } : undefined;
    },

    trainingRuns(options = {}) {
      return new TrainingLog(active().store).runs(options);
    },

    async modelVersions(symbol) {
      const rt = active();
      const registry = new ModelRegistry(rt.store);
      const symbols = symbol ? [symbol] : (await new BarStore(rt.store).coverage()).map((c) => c.symbol);
      const result: SymbolVersions[] = [];
      for (const s of symbols) {
        const current = (await registry.currentVersionId(s)) ?? null;
        result.push({ symbol: s, current_version_id: current, versions: (await registry.list(s)).map((v) => ({ ...v, current: v.version_id === current })) });
      }
      return result;
    },

    async plotData(symbol, years) {
      const rt = active();
      const registry = new ModelRegistry(rt.store);
      const versionId = await registry.currentVersionId(symbol);
      if (!versionId) return undefined;
      const { version, blob } = await registry.loadBlob(versionId);
      const model = await LstmModel.fromBlob(blob, version.metadata_json as unknown as ModelMetadata);
      try {
        return buildPlotData(model, versionId, await new BarStore(rt.store).load(symbol), years);
      } finally {
        model.dispose();
      }
    },

    latestPredictions() {
      return new PredictionLog(active().store).latest(config.prediction_set);
    },
  };
  return plugin;
}

export type { SessionReport };
